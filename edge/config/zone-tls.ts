// The proxy's TLS to its zone controller's discovery port (--zone-token-file).
// First contact: the root is pinned by the fingerprint in the proxy token and
// the certificate calls carry the token's secret; the zone is checked by its
// SPIFFE identity (role zone, this region). Once the proxy holds its leaf,
// the Watch and Report streams present it (mTLS), renewed leaves included.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/observability/logger';
import type { ProxyToken } from '../../lib/auth/proxy-token';
import { fetchPinnedRoot, PinnedRootError } from '../../lib/grpc/pinned-root';
import { meshChannelCredentials, MeshClientCredentials } from '../../lib/grpc/mesh-credentials';
import type { MeshPeerExpectation } from '../../lib/grpc/mesh-peer';
import { parseTrustDomainId, readCertificate } from '../../lib/pki';

export interface ProxyLeaf {
  chainPem: string;
  keyPem: string;
  trustBundle: string[];
}

export class ZoneTls {
  private readonly streams: MeshClientCredentials;

  private constructor(
    readonly zone: MeshPeerExpectation,
    // For IssueCertificate and DescribeIdentity: pinned root and the token.
    readonly certificateCalls: grpc.ChannelCredentials,
  ) {
    this.streams = new MeshClientCredentials(zone);
  }

  // Waits for the zone to answer over TLS (it does once it has joined).
  static async connect(address: string, region: string, token: ProxyToken, logger: Logger, retryMs = 1000): Promise<ZoneTls> {
    let root: string | undefined;
    for (let attempt = 1; !root; attempt++) {
      try {
        root = await fetchPinnedRoot(address, token.rootFingerprint);
      } catch (err) {
        if (err instanceof PinnedRootError) throw new Error(`--zone-token-file: ${err.message}`);
        if (attempt === 1) logger.warn({ zone: address, err: (err as Error).message }, 'the zone controller does not answer over TLS yet; retrying');
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
    const trustDomain = readCertificate(root).uris.map(parseTrustDomainId).find((td) => td !== null);
    if (!trustDomain) throw new Error('--zone-token-file: the pinned root names no spiffe:// trust domain');
    const zone: MeshPeerExpectation = { trustDomain, roles: ['zone'], region };
    const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${token.secret}`);
      callback(null, metadata);
    });
    return new ZoneTls(zone, grpc.credentials.combineChannelCredentials(meshChannelCredentials({ rootsPem: [root] }, zone), bearer));
  }

  // For Watch and Report: the proxy's leaf and the mesh roots it came with.
  streamCredentials(): grpc.ChannelCredentials {
    return this.streams.credentials;
  }

  setLeaf(leaf: ProxyLeaf): void {
    this.streams.update({ rootsPem: leaf.trustBundle, certChainPem: leaf.chainPem, keyPem: leaf.keyPem });
  }
}
