// The federation port's TLS: a server certificate from the active mesh root
// (spiffe://<td>/region/global/global/controller, plus the host names and
// addresses zones may dial), sent with its root so a joining zone can pin the
// root by the fingerprint in its join token; client certificates are checked
// against every trusted root. Re-issued at two thirds of its life, and at
// once when the roots change (rotation, retirement), which every replica
// notices within checkEveryMs.
import { generateKeyPairAsync, msUntilRotation } from '../../lib/pki';
import { MeshServerCredentials } from '../../lib/grpc/mesh-credentials';
import type { Logger } from '../../lib/observability/logger';
import type { RootCaStore } from '../identity/root-ca-store';

export interface FederationTlsOptions {
  hosts: string[];
  lifetimeMs?: number;
  checkEveryMs?: number;
}

export class FederationTls {
  readonly server = new MeshServerCredentials();
  private keyPem = '';
  private publicKeyPem = '';
  private rootsKey = '';
  private renewAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rootCa: RootCaStore,
    private readonly logger: Logger,
    private readonly opts: FederationTlsOptions,
  ) {}

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
        if (attempt === 1) this.logger.warn({ err: (err as Error).message }, 'cannot issue the federation TLS certificate yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
      }
    }
    this.rootCa.onChange(() => void this.refresh().catch((err) => this.logger.warn({ err: (err as Error).message }, 'cannot re-issue the federation TLS certificate after a root change')));
    this.timer = setInterval(() => void this.refresh().catch((err) => this.logger.warn({ err: (err as Error).message }, 'cannot renew the federation TLS certificate; retrying')), this.opts.checkEveryMs ?? 10_000);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const roots = await this.rootCa.trustBundle();
    const active = await this.rootCa.activeFingerprint();
    const rootsKey = `${active} ${roots.join('')}`;
    if (rootsKey === this.rootsKey && Date.now() < this.renewAt) return;
    const { issued, rootPem } = await this.rootCa.issueGlobalCertificate(this.publicKeyPem, this.opts.hosts, this.opts.lifetimeMs ?? 24 * 3600_000);
    this.server.update({ rootsPem: roots, certChainPem: issued.certPem + rootPem, keyPem: this.keyPem });
    this.rootsKey = rootsKey;
    this.renewAt = Date.now() + msUntilRotation(issued.certPem);
    this.logger.info({ identity: issued.identity, notAfter: issued.notAfter.toISOString(), roots: roots.length }, 'federation TLS certificate issued');
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
