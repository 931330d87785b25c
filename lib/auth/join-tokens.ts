// Zone join tokens: `mzt1.<payload>.<signature>`, the payload a base64url JSON
// naming the region and the expiry, the signature an HMAC-SHA256 over both
// with the mesh's join signing key (kept in etcd, shared by every replica).
// The global controller makes and verifies them; the format lives in lib/
// because the zone and `meridian bootstrap` read the same payload.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'mzt1';

export interface JoinTokenClaims {
  region: string;
  // The mesh's trust domain, so the zone can ask for its CA before it joins.
  trustDomain?: string;
  // "sha256:<hex>" of the mesh root: the zone checks the server with it on
  // first contact, before it holds any trust bundle.
  rootFingerprint?: string;
  issuedAt: number; // unix seconds
  expiresAt: number; // unix seconds
  id: string;
}

export class JoinTokenError extends Error {}

function sign(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

export function createJoinToken(
  key: Buffer,
  region: string,
  ttlMs: number,
  now = Date.now(),
  trustDomain?: string,
  rootFingerprint?: string,
): { token: string; claims: JoinTokenClaims } {
  const claims: JoinTokenClaims = {
    region,
    trustDomain,
    rootFingerprint,
    issuedAt: Math.floor(now / 1000),
    expiresAt: Math.floor((now + ttlMs) / 1000),
    id: randomBytes(8).toString('hex'),
  };
  const payload = Buffer.from(JSON.stringify({ r: claims.region, td: claims.trustDomain, rca: claims.rootFingerprint, iat: claims.issuedAt, exp: claims.expiresAt, jti: claims.id })).toString('base64url');
  const data = `${PREFIX}.${payload}`;
  return { token: `${data}.${sign(key, data)}`, claims };
}

// Throws JoinTokenError with a reason a zone operator can act on.
export function verifyJoinToken(key: Buffer, token: string, region: string, now = Date.now()): JoinTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new JoinTokenError('join token is malformed');
  const [, payload, signature] = parts as [string, string, string];
  const expected = Buffer.from(sign(key, `${PREFIX}.${payload}`));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new JoinTokenError('join token signature is not valid for this mesh');
  let raw: { r?: unknown; td?: unknown; rca?: unknown; iat?: unknown; exp?: unknown; jti?: unknown };
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new JoinTokenError('join token payload is malformed');
  }
  if (typeof raw.r !== 'string' || typeof raw.exp !== 'number' || typeof raw.iat !== 'number') throw new JoinTokenError('join token payload is malformed');
  const claims: JoinTokenClaims = {
    region: raw.r,
    trustDomain: typeof raw.td === 'string' ? raw.td : undefined,
    rootFingerprint: typeof raw.rca === 'string' ? raw.rca : undefined,
    issuedAt: raw.iat,
    expiresAt: raw.exp,
    id: String(raw.jti ?? ''),
  };
  if (claims.expiresAt * 1000 <= now) throw new JoinTokenError(`join token expired at ${new Date(claims.expiresAt * 1000).toISOString()}`);
  if (claims.region !== region) throw new JoinTokenError(`join token is for region '${claims.region}', not '${region}'`);
  return claims;
}
