// Who may use the discovery port when it runs TLS (--proxy-token-file): the
// Watch and Report streams take only a verified leaf of one of this region's
// edges or ingresses; the certificate calls (IssueCertificate,
// DescribeIdentity) also take the region's proxy bootstrap token, as
// `authorization: Bearer <secret>`, because a proxy's first call has no leaf.
import * as grpc from '@grpc/grpc-js';
import { verifiedPeer } from '../../lib/grpc/mesh-credentials';
import { sameSecret } from '../../lib/auth/proxy-token';

export interface ProxyAuthOptions {
  trustDomain: string;
  region: string;
  tokenSecret: string;
}

export interface Refusal {
  code: grpc.status;
  details: string;
}

type Call = { getAuthContext?: () => { sslPeerCertificate?: import('node:tls').PeerCertificate } | null; metadata: grpc.Metadata };

export class ProxyAuth {
  constructor(private readonly o: ProxyAuthOptions) {}

  stream(call: Call): Refusal | undefined {
    const peer = verifiedPeer(call, { trustDomain: this.o.trustDomain, roles: ['edge', 'ingress'], region: this.o.region });
    if (peer.ok) return undefined;
    return { code: grpc.status.UNAUTHENTICATED, details: `a leaf certificate of an edge or ingress of region ${this.o.region} is required (${peer.reason}); get one with IssueCertificate` };
  }

  issuance(call: Call): Refusal | undefined {
    if (!this.stream(call)) return undefined;
    const header = String(call.metadata.get('authorization')[0] ?? '');
    const given = /^Bearer (.+)$/.exec(header)?.[1];
    if (given && sameSecret(given, this.o.tokenSecret)) return undefined;
    return { code: grpc.status.UNAUTHENTICATED, details: given ? 'the proxy token is not this region\'s' : 'a proxy token (authorization: Bearer) or a leaf certificate of this region is required' };
  }
}
