// This zone's intermediate CA. The key is made here and never leaves the zone:
// kept in the state directory sealed with the node's state key
// (zone-ca/key.sealed, purpose zone-ca-key, record zone-ca/<region>), or in
// memory only without a state key (a restart then makes a new key and needs a
// new join token for its certificate). The global controller signs the CSR
// when the zone joins without a usable certificate, before two thirds of the
// certificate's life have passed (also for one loaded from the state: a
// restarting zone asks for none while it holds a valid one), and when the
// trust bundle names a new active root. The zone signs its proxies'
// certificates with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createCsr, formatIdentity, generateKeyPairAsync, issueLeaf, issueWorkloadLeaf, msUntilRotation, readCertificate, type IssuedCertificate } from '../../lib/pki';
import { issueZoneLeaf, type ControlPlaneCertificate } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import { writeFileAtomic } from '../state/atomic-file';
import { SealedSecretFile } from '../state/sealed-secret-file';
import type { DataKey } from '../../lib/pki';

export declare interface ZoneCa {
  // Time to renew: send this CSR.
  on(event: 'renew', listener: (csr: string) => void): this;
  // A certificate or trust bundle was installed (or loaded from the state).
  on(event: 'installed', listener: () => void): this;
}

export class ZoneCa extends EventEmitter {
  private keyPem = '';
  certPem = '';
  trustBundle: string[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly dir: string;
  private readonly keyFile: SealedSecretFile;

  constructor(stateDir: string, readonly region: string, readonly trustDomain: string, private readonly logger: Logger, stateKey?: DataKey) {
    super();
    this.dir = path.join(stateDir, 'zone-ca');
    this.keyFile = new SealedSecretFile({
      sealedFile: path.join(this.dir, 'key.sealed'),
      legacyClearFile: path.join(this.dir, 'key.pem'),
      stateKey,
      context: { purpose: 'zone-ca-key', record: `zone-ca/${region}` },
      what: `the zone CA key of region ${region}`,
    });
  }

  get identity(): string {
    return formatIdentity({ trustDomain: this.trustDomain, region: this.region, role: 'zone', name: this.region });
  }

  get ready(): boolean {
    return !!this.certPem;
  }

  // Whether the key is saved (prepare() is then quick, or refuses it with
  // the reason): else it is made, a few hundred milliseconds on the thread pool.
  get hasSavedKey(): boolean {
    return this.keyFile.saved;
  }

  // Loads or makes the key, and what was issued before (to serve from while
  // the global controller is away, and to rejoin over mTLS with). Rejects
  // when a saved key cannot be used (no or another state key, a clear key
  // left by an older version without a state key to seal it).
  async prepare(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const saved = await this.keyFile.load();
    if (saved) {
      this.keyPem = saved.secret;
      if (saved.migrated) this.logger.warn({ file: path.join(this.dir, 'key.sealed') }, 'sealed the zone CA key left in the clear by an older version, and removed the clear file');
    } else {
      this.keyPem = (await generateKeyPairAsync()).privateKeyPem;
      await this.keyFile.store(this.keyPem);
    }
    const certFile = path.join(this.dir, 'cert.pem');
    if (fs.existsSync(certFile)) {
      const certPem = fs.readFileSync(certFile, 'utf8');
      const problem = this.unusable(certPem);
      if (problem) this.logger.warn({ reason: problem }, 'the saved zone CA certificate is not used; asking for a new one');
      else {
        this.certPem = certPem;
        this.trustBundle = splitPems(fs.readFileSync(path.join(this.dir, 'trust-bundle.pem'), 'utf8'));
        this.armRenewal();
      }
    }
  }

  // Why a saved certificate cannot serve (another key or identity, expired),
  // or undefined when it can (one due for renewal serves until renewed).
  private unusable(certPem: string): string | undefined {
    try {
      const cert = readCertificate(certPem, 'zone CA certificate');
      if (cert.identity !== this.identity) return `it names ${cert.identity ?? 'no identity'}, not ${this.identity}`;
      if (!cert.x509.checkPrivateKey(createPrivateKey(this.keyPem))) return 'it does not match the key';
      if (cert.notAfter.getTime() <= Date.now()) return `it expired at ${cert.notAfter.toISOString()}`;
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  // The CSR for Hello: only while there is no certificate (first join, lost
  // or stale state) or it is due for renewal (a renewal sent while the
  // stream was down); otherwise renewals go on the stream ('renew').
  // After a root rotation (the held certificate is not from the bundle's
  // active root) a new one is asked for too.
  helloCsr(): string | undefined {
    if (!this.keyPem) return undefined;
    return this.ready && msUntilRotation(this.certPem) > 0 && this.fromActiveRoot() ? undefined : this.csr();
  }

  // The bundle lists the active root first.
  private fromActiveRoot(): boolean {
    const active = this.trustBundle[0];
    if (!active) return true;
    try {
      return new X509Certificate(this.certPem).verify(new X509Certificate(active).publicKey);
    } catch {
      return false;
    }
  }

  // The zone controller's own leaf (federation client, discovery server).
  issueOwnLeaf(publicKeyPem: string, lifetimeMs: number): ControlPlaneCertificate {
    return issueZoneLeaf({ caCertPem: this.certPem, caKeyPem: this.keyPem, publicKeyPem, trustDomain: this.trustDomain, lifetimeMs });
  }

  csr(): string {
    return createCsr({ keyPem: this.keyPem, identity: this.identity });
  }

  async accept(certificate: string, trustBundle: string[]): Promise<void> {
    if (trustBundle.length) {
      this.trustBundle = trustBundle;
      await writeFileAtomic(path.join(this.dir, 'trust-bundle.pem'), trustBundle.join(''));
    }
    if (!certificate) {
      // A bundle alone (a zone that sent no CSR): a new active root means a new zone CA from it.
      if (this.ready && !this.fromActiveRoot()) this.emit('renew', this.csr());
      return;
    }
    this.certPem = certificate;
    await writeFileAtomic(path.join(this.dir, 'cert.pem'), certificate);
    const dueInMs = this.armRenewal();
    this.logger.info({ identity: this.identity, renewInS: Math.round(dueInMs / 1000) }, 'zone CA certificate installed');
    this.emit('installed');
  }

  private armRenewal(): number {
    const dueInMs = Math.max(1000, msUntilRotation(this.certPem));
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => this.emit('renew', this.csr()), Math.min(dueInMs, 2 ** 31 - 1));
    this.renewTimer.unref();
    return dueInMs;
  }

  // A leaf for one of this region's edges or ingresses (the policy of
  // lib/pki: this trust domain and region, roles edge and ingress only).
  signLeaf(csrPem: string, lifetimeMs: number): IssuedCertificate & { chainPem: string } {
    const issued = issueLeaf({ caCertPem: this.certPem, caKeyPem: this.keyPem, csrPem, allowedRegion: this.region, trustDomain: this.trustDomain, lifetimeMs });
    return { ...issued, chainPem: issued.certPem + this.certPem };
  }

  // A workload's leaf: spiffe://<td>/region/<region>/service/<service>, for
  // the key of its CSR (the identity is the caller's, decided by the zone).
  signWorkloadLeaf(csrPem: string, service: string, lifetimeMs: number): IssuedCertificate & { chainPem: string } {
    const issued = issueWorkloadLeaf({ caCertPem: this.certPem, caKeyPem: this.keyPem, csrPem, trustDomain: this.trustDomain, region: this.region, service, lifetimeMs });
    return { ...issued, chainPem: issued.certPem + this.certPem };
  }

  stop(): void {
    clearTimeout(this.renewTimer);
  }
}

function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
