// A server certificate of this global controller from the active mesh root
// (spiffe://<td>/region/global/global/controller, plus the host names and
// addresses its callers dial), for a key made here and kept in memory. It is
// re-issued at two thirds of its life, and at once when the roots change
// (rotation, retirement), which every replica notices within checkEveryMs.
// The federation port and the admin API's HTTPS each hold one.
import { certificateFingerprint, generateKeyPairAsync, msUntilRotation } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import type { RootCaStore } from './root-ca-store';

export interface GlobalServerCertificateOptions {
  // What it is for, in log lines ("federation", "admin API").
  purpose: string;
  hosts: string[];
  lifetimeMs?: number;
  checkEveryMs?: number;
}

export interface ServerCertificate {
  // The leaf, then the root that signed it (sent along for pinning).
  certChainPem: string;
  keyPem: string;
  // Every trusted root, active first.
  rootsPem: string[];
}

export class GlobalServerCertificate {
  private keyPem = '';
  private publicKeyPem = '';
  private rootsKey = '';
  private renewAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private issued: ServerCertificate | undefined;
  private readonly listeners: Array<(certificate: ServerCertificate) => void> = [];

  constructor(
    private readonly rootCa: RootCaStore,
    private readonly logger: Logger,
    private readonly opts: GlobalServerCertificateOptions,
  ) {}

  // The certificate in force (after start()).
  get current(): ServerCertificate {
    if (!this.issued) throw new Error(`the ${this.opts.purpose} TLS certificate is not ready`);
    return this.issued;
  }

  // Told of every certificate issued, the first included.
  onIssue(listener: (certificate: ServerCertificate) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    const pair = await generateKeyPairAsync();
    this.keyPem = pair.privateKeyPem;
    this.publicKeyPem = pair.publicKeyPem;
    // The store may still be warming up (etcd away at start): keep trying.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.refresh();
        break;
      } catch (err) {
        if (attempt === 1) this.logger.warn({ err: (err as Error).message }, `cannot issue the ${this.opts.purpose} TLS certificate yet; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
      }
    }
    const warn = (what: string) => (err: unknown) => this.logger.warn({ err: (err as Error).message }, `${what} the ${this.opts.purpose} TLS certificate`);
    this.rootCa.onChange(() => void this.refresh().catch(warn('after a root change, cannot re-issue')));
    this.timer = setInterval(() => void this.refresh().catch(warn('cannot renew (retrying)')), this.opts.checkEveryMs ?? 10_000);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const roots = await this.rootCa.trustBundle();
    const active = await this.rootCa.activeFingerprint();
    const rootsKey = `${active} ${roots.join('')}`;
    if (rootsKey === this.rootsKey && Date.now() < this.renewAt) return;
    const { issued, rootPem } = await this.rootCa.issueGlobalCertificate(this.publicKeyPem, this.opts.hosts, this.opts.lifetimeMs ?? 24 * 3600_000);
    this.issued = { certChainPem: issued.certPem + rootPem, keyPem: this.keyPem, rootsPem: roots };
    this.rootsKey = rootsKey;
    this.renewAt = Date.now() + msUntilRotation(issued.certPem);
    for (const l of this.listeners) l(this.issued);
    this.logger.info(
      { identity: issued.identity, notAfter: issued.notAfter.toISOString(), roots: roots.length, rootFingerprint: certificateFingerprint(rootPem), hosts: this.opts.hosts },
      `${this.opts.purpose} TLS certificate issued`,
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
