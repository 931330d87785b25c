// The TLS credentials of a zone's first join: the root pinned by the join
// token's fingerprint, no client certificate (the token authenticates), and
// the global controller checked by its SPIFFE identity.
import type * as grpc from '@grpc/grpc-js';
import { peekJoinToken } from '../auth/join-token-payload';
import { meshChannelCredentials, type MeshTlsMaterial } from './mesh-credentials';
import { fetchPinnedRoot } from './pinned-root';

export async function joinCredentials(address: string, joinToken: string, clientCertificate?: Omit<MeshTlsMaterial, 'rootsPem'>): Promise<grpc.ChannelCredentials> {
  const { trustDomain, rootFingerprint } = peekJoinToken(joinToken);
  if (!trustDomain || !rootFingerprint) throw new Error('the join token names no trust domain or root CA fingerprint: create a new one with meridian token create');
  const root = await fetchPinnedRoot(address, rootFingerprint);
  return meshChannelCredentials({ rootsPem: [root], ...clientCertificate }, { trustDomain, roles: ['global'] });
}
