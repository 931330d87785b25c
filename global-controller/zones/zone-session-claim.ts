// The rule of one live zone session per region, as a pure decision: a region
// with no session record is free; the same zone CA key coming back (a zone
// restarted before its old stream timed out) replaces its old session; a
// session with another key is refused while the record lives, naming the
// session that holds the region.
export type ZoneSessionAuth = 'mtls' | 'token';

export interface ZoneSessionRecord {
  region: string;
  sessionId: string;
  zoneId: string;
  replica: string;
  // "sha256:<hex>" of the zone CA key's SPKI.
  identity: string;
  auth: ZoneSessionAuth;
  sinceMs: number;
}

export interface RevokedZoneCa {
  identity: string;
  region: string;
  zoneId: string;
  revokedAtMs: number;
}

export type ClaimDecision = { take: true; replaces?: ZoneSessionRecord } | { take: false; reason: string };

export function decideClaim(held: ZoneSessionRecord | undefined, wanted: Pick<ZoneSessionRecord, 'region' | 'identity'>): ClaimDecision {
  if (!held) return { take: true };
  if (held.identity === wanted.identity) return { take: true, replaces: held };
  return {
    take: false,
    reason:
      `region ${wanted.region} already has a live zone session with another zone CA: zone ${held.zoneId} on replica ${held.replica} ` +
      `since ${new Date(held.sinceMs).toISOString()} (zone CA ${held.identity}); it ends when that zone disconnects, ` +
      `or an operator ends it with meridian session end ${wanted.region}`,
  };
}

export function revokedMessage(r: RevokedZoneCa): string {
  return `zone CA ${r.identity} of region ${r.region} (zone ${r.zoneId}) was revoked by an operator at ${new Date(r.revokedAtMs).toISOString()}; rejoin with a new join token (meridian token create --region ${r.region}) and a new zone CA key`;
}

// The etcd key of a revoked identity ("sha256:<hex>" -> its hex).
export function identityKey(identity: string): string {
  return identity.replace(/^sha256:/, '');
}
