// The zone's TLS credentials for the federation stream. Trust: the roots the
// global controller handed over (kept in the state directory), or before the
// first join the root pinned by the fingerprint in the join token. Identity:
// the zone leaf once the zone CA exists (mTLS); until then none, and the join
// token authenticates the Hello. The global controller is checked by its
// SPIFFE identity (role global, signed by a root).
import type * as grpc from '@grpc/grpc-js';
import { meshChannelCredentials } from '../../lib/grpc/mesh-credentials';
import { fetchPinnedRoot } from '../../lib/grpc/pinned-root';
import type { ZoneLeaf } from '../identity/zone-leaf';

export interface FederationCredentialsOptions {
  globalAddress: string;
  trustDomain: string;
  rootFingerprint: string;
  leaf: ZoneLeaf;
}

export class FederationCredentials {
  private pinnedRoot: string | undefined;
  private cached: { key: string; credentials: grpc.ChannelCredentials } | undefined;

  constructor(private readonly opts: FederationCredentialsOptions) {}

  // The same object while nothing changed, so the client keeps its channel.
  async get(): Promise<grpc.ChannelCredentials> {
    const material = this.opts.leaf.material();
    if (material.rootsPem.length === 0) {
      this.pinnedRoot ??= await fetchPinnedRoot(this.opts.globalAddress, this.opts.rootFingerprint);
      material.rootsPem = [this.pinnedRoot];
    }
    const key = material.rootsPem.join('') + (material.certChainPem ?? '');
    if (this.cached?.key !== key) {
      this.cached = { key, credentials: meshChannelCredentials(material, { trustDomain: this.opts.trustDomain, roles: ['global'] }) };
    }
    return this.cached.credentials;
  }

  get mutual(): boolean {
    return this.opts.leaf.ready;
  }
}
