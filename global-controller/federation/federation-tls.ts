// The federation port's TLS: the global controller's server certificate from
// the mesh root (../identity/global-server-certificate.ts), sent with its root
// so a joining zone can pin the root by the fingerprint in its join token;
// client certificates are checked against every trusted root.
import { MeshServerCredentials } from '../../lib/grpc/mesh-credentials';
import type { Logger } from '../../lib/observability/logger';
import type { RootCaStore } from '../identity/root-ca-store';
import { GlobalServerCertificate } from '../identity/global-server-certificate';

export interface FederationTlsOptions {
  hosts: string[];
  lifetimeMs?: number;
  checkEveryMs?: number;
}

export class FederationTls {
  readonly server = new MeshServerCredentials();
  private readonly certificate: GlobalServerCertificate;

  constructor(rootCa: RootCaStore, logger: Logger, opts: FederationTlsOptions) {
    this.certificate = new GlobalServerCertificate(rootCa, logger, { purpose: 'federation', ...opts });
    this.certificate.onIssue((c) => this.server.update(c));
  }

  start(): Promise<void> {
    return this.certificate.start();
  }

  stop(): void {
    this.certificate.stop();
  }
}
