// This zone's intermediate CA. The key is made here and never leaves the zone
// (mode 0600 in the state directory); the global controller signs the CSR
// when the zone joins, and again before two thirds of the certificate's life
// have passed. The zone signs its proxies' certificates with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { createCsr, formatIdentity, generateKeyPairAsync, issueLeaf, msUntilRotation, type IssuedCertificate } from '../../lib/pki';
import { issueZoneLeaf, type ControlPlaneCertificate } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import { writeFileAtomic } from '../state/atomic-file';

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

  constructor(stateDir: string, readonly region: string, readonly trustDomain: string, private readonly logger: Logger) {
    super();
    this.dir = path.join(stateDir, 'zone-ca');
  }

  get identity(): string {
    return formatIdentity({ trustDomain: this.trustDomain, region: this.region, role: 'zone', name: this.region });
  }

  get ready(): boolean {
    return !!this.certPem;
  }

  // Loads or makes the key, and what was issued before (to serve from while
  // the global controller is away); returns the CSR for Hello.
  async prepare(): Promise<string> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const keyFile = path.join(this.dir, 'key.pem');
    if (fs.existsSync(keyFile)) this.keyPem = fs.readFileSync(keyFile, 'utf8');
    else {
      this.keyPem = (await generateKeyPairAsync()).privateKeyPem;
      await writeFileAtomic(keyFile, this.keyPem);
      fs.chmodSync(keyFile, 0o600);
    }
    const certFile = path.join(this.dir, 'cert.pem');
    if (fs.existsSync(certFile)) {
      this.certPem = fs.readFileSync(certFile, 'utf8');
      this.trustBundle = splitPems(fs.readFileSync(path.join(this.dir, 'trust-bundle.pem'), 'utf8'));
    }
    return this.csr();
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
    if (!certificate) return;
    this.certPem = certificate;
    await writeFileAtomic(path.join(this.dir, 'cert.pem'), certificate);
    const dueInMs = Math.max(1000, msUntilRotation(certificate));
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => this.emit('renew', this.csr()), Math.min(dueInMs, 2 ** 31 - 1));
    this.renewTimer.unref();
    this.logger.info({ identity: this.identity, renewInS: Math.round(dueInMs / 1000) }, 'zone CA certificate installed');
    this.emit('installed');
  }

  // A leaf for one of this region's edges or ingresses (the policy of
  // lib/pki: this trust domain and region, roles edge and ingress only).
  signLeaf(csrPem: string, lifetimeMs: number): IssuedCertificate & { chainPem: string } {
    const issued = issueLeaf({ caCertPem: this.certPem, caKeyPem: this.keyPem, csrPem, allowedRegion: this.region, trustDomain: this.trustDomain, lifetimeMs });
    return { ...issued, chainPem: issued.certPem + this.certPem };
  }

  stop(): void {
    clearTimeout(this.renewTimer);
  }
}

function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
