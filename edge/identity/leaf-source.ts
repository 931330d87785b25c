// Where MeshIdentity gets its leaf certificates (CertificateClient over gRPC,
// or a test's zone), and the refusal such a source gives.
import type * as grpc from '@grpc/grpc-js';
import type { IssuedLeaf } from '../../lib/pki';

export interface LeafSource {
  describe(proxy: string, mode: 'edge' | 'ingress'): Promise<{ identity: string }>;
  issue(proxy: string, csrPem: string): Promise<IssuedLeaf>;
}

// A refusal the zone gave with a gRPC status (code and details as sent).
export class IssueError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'IssueError';
  }
}
