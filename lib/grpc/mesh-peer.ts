// Who is on the other end of a control-stream TLS connection, after the TLS
// stack has verified the chain to the mesh roots: the SPIFFE identity of the
// leaf, checked against what its issuer may vouch for. The issuer is told by
// its subject, which only a root sets (a zone CA's is "CN=Meridian zone CA
// <region> ..., L=<region>", and with pathLen 0 a zone CA cannot make another
// CA): a zone CA vouches for its own region only, and never for `global`.
import type { PeerCertificate } from 'node:tls';
import { parseIdentity, readCertificate, type Identity, type Role } from '../pki';

export interface MeshPeerExpectation {
  trustDomain: string;
  roles: readonly Role[];
  // The region the peer must be in; any when absent.
  region?: string;
}

export type MeshPeerCheck = { ok: true; identity: Identity; uri: string } | { ok: false; reason: string };

const ZONE_CA_CN = /^Meridian zone CA ([a-z0-9-]+) /;

export function checkMeshPeer(cert: Pick<PeerCertificate, 'raw' | 'issuer'> | undefined, expect: MeshPeerExpectation): MeshPeerCheck {
  if (!cert?.raw) return { ok: false, reason: 'no verified client certificate' };
  let uri: string | null;
  try {
    uri = readCertificate(cert.raw, 'peer certificate').identity;
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (!uri) return { ok: false, reason: 'the peer certificate carries no mesh identity (spiffe:// URI SAN)' };
  const identity = parseIdentity(uri);
  if (identity.trustDomain !== expect.trustDomain) return { ok: false, reason: `${uri} is outside trust domain ${expect.trustDomain}` };
  if (!expect.roles.includes(identity.role)) return { ok: false, reason: `${uri} has role ${identity.role}; this stream takes ${expect.roles.join(' or ')}` };
  if (expect.region !== undefined && identity.region !== expect.region) {
    return { ok: false, reason: `${uri} is an identity of region ${identity.region}, not ${expect.region}` };
  }
  const issuerCn = firstValue(cert.issuer?.CN);
  const zoneCaRegion = issuerCn ? ZONE_CA_CN.exec(issuerCn)?.[1] : undefined;
  if (identity.role === 'global') {
    if (zoneCaRegion !== undefined) return { ok: false, reason: `${uri} is signed by the zone CA of ${zoneCaRegion}; only a root signs the global controller` };
  } else if (zoneCaRegion !== identity.region || firstValue(cert.issuer?.L) !== identity.region) {
    return { ok: false, reason: `${uri} is not signed by the zone CA of region ${identity.region} (issuer ${issuerCn ?? 'unknown'})` };
  }
  return { ok: true, identity, uri };
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
