// The proxy's side of Discovery.IssueCertificate: sends a CSR to the zone
// controller and reads back the chain and the trust bundle. Only the CSR
// leaves the process; the key stays with the caller.
import * as grpc from '@grpc/grpc-js';
import type { IssuedLeaf } from '../../lib/pki';
import { discoveryProto } from '../../lib/grpc/protos';
import type { DiscoveryClient } from '../../proto/generated/meridian/discovery/v1/Discovery';
import { IssueError, type LeafSource } from './leaf-source';
import { meshChannelOptions } from '../../lib/grpc/mesh-credentials';

export type { IssuedLeaf };
export { IssueError };

const CALL_TIMEOUT_MS = 10_000;

export class CertificateClient implements LeafSource {
  private readonly client: DiscoveryClient;

  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    const Discovery = discoveryProto().meridian.discovery.v1.Discovery;
    this.client = new Discovery(address, credentials, meshChannelOptions(address));
  }

  describe(proxy: string, mode: 'edge' | 'ingress'): Promise<{ identity: string }> {
    return new Promise((resolve, reject) => {
      this.client.DescribeIdentity({ proxy, mode }, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
        if (err) return reject(new IssueError(err.code, err.details || err.message));
        resolve({ identity: res!.identity });
      });
    });
  }

  issue(proxy: string, csrPem: string): Promise<IssuedLeaf> {
    return new Promise((resolve, reject) => {
      this.client.IssueCertificate({ proxy, csr: csrPem }, { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
        if (err) return reject(new IssueError(err.code, err.details || err.message));
        if (!res?.certificateChain || res.trustBundle.length === 0) return reject(new IssueError(grpc.status.INTERNAL, 'the zone answered without a certificate or trust bundle'));
        resolve({ chainPem: res.certificateChain, trustBundle: res.trustBundle, identity: res.identity, serial: res.serial, notAfter: new Date(Number(res.notAfterMs)) });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
