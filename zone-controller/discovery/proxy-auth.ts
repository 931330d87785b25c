// Who may use the discovery port when it runs TLS (--proxy-token-file): the
// Watch and Report streams take only a verified leaf of one of this region's
// edges or ingresses (a Watch or Report only for the proxy the leaf names); the certificate calls (IssueCertificate,
// DescribeIdentity) also take the region's proxy bootstrap token, as
// `authorization: Bearer <secret>`, because a proxy's first call has no leaf;
// with a leaf and no token, a certificate only for the leaf's own identity.
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

  // A Watch or a Report speaks for the proxy whose leaf made the call: the
  // name and mode it gives must be the leaf's, so one proxy cannot replace
  // another's report (its health, its mesh addresses in the zone DNS) or
  // watch under its name, nor an ingress speak as an edge, nor one leaf fill
  // the tables with names.
  ownName(call: Call, proxy: string, mode: string): Refusal | undefined {
    const peer = verifiedPeer(call, { trustDomain: this.o.trustDomain, roles: ['edge', 'ingress'], region: this.o.region });
    if (!peer.ok) return this.stream(call);
    const { name, role } = peer.identity;
    if (name === proxy && role === mode) return undefined;
    return {
      code: grpc.status.PERMISSION_DENIED,
      details: `proxy, mode: a call over the leaf of ${peer.uri} is for proxy ${JSON.stringify(name)} in mode ${role}, not ${JSON.stringify(proxy.slice(0, 64))} in mode ${JSON.stringify(mode.slice(0, 16))}`,
    };
  }

  // `asks`: the identity the call asks a certificate for (undefined: none
  // yet known). With the token, any proxy identity of the region; with only
  // a leaf, that leaf's own identity (a renewal): one proxy's leaf does not
  // mint another proxy's, nor an ingress an edge.
  issuance(call: Call, asks?: () => string | undefined): Refusal | undefined {
    const header = String(call.metadata.get('authorization')[0] ?? '');
    const given = /^Bearer (.+)$/.exec(header)?.[1];
    if (given && sameSecret(given, this.o.tokenSecret)) return undefined;
    const peer = verifiedPeer(call, { trustDomain: this.o.trustDomain, roles: ['edge', 'ingress'], region: this.o.region });
    if (peer.ok) {
      const wanted = asks?.();
      if (wanted === undefined || wanted === peer.uri) return undefined;
      return { code: grpc.status.PERMISSION_DENIED, details: `a leaf renews only its own identity: ${peer.uri} cannot ask for ${wanted.slice(0, 200)}; another identity needs the proxy token` };
    }
    return { code: grpc.status.UNAUTHENTICATED, details: given ? 'the proxy token is not this region\'s' : 'a proxy token (authorization: Bearer) or a leaf certificate of this region is required' };
  }
}
