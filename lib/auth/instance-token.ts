// Instance tokens: the credential with which whatever starts instances
// registers them with a zone controller. `mit1.<payload>.<signature>`, the
// payload a base64url JSON {r: region, s: service or "*", iat, exp, jti}, the
// signature Ed25519 over `mit1.<payload>`. The global controller signs them;
// a zone checks them with the public key alone, so it can do so while the
// global controller is away, and learns of revocations on the federation
// stream (./instance-token-policy.ts).
import { createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

const PREFIX = 'mit1';
// Far above a real token (about 250 characters): bounds the work on junk.
export const MAX_INSTANCE_TOKEN_LENGTH = 2048;
// Every service of the region: for a deployment system that starts them all.
export const ALL_SERVICES = '*';

export interface InstanceTokenClaims {
  id: string;
  region: string;
  // A service name or "*".
  service: string;
  issuedAt: number; // unix seconds
  expiresAt: number; // unix seconds
}

// Why a token is not a credential at all (HTTP 401).
export class InstanceTokenError extends Error {}

export function makeInstanceToken(
  privateKey: KeyObject,
  scope: { region: string; service: string },
  ttlMs: number,
  now = Date.now(),
): { token: string; claims: InstanceTokenClaims } {
  const claims: InstanceTokenClaims = {
    id: randomBytes(8).toString('hex'),
    region: scope.region,
    service: scope.service,
    issuedAt: Math.floor(now / 1000),
    expiresAt: Math.floor((now + ttlMs) / 1000),
  };
  const payload = Buffer.from(JSON.stringify({ r: claims.region, s: claims.service, iat: claims.issuedAt, exp: claims.expiresAt, jti: claims.id })).toString('base64url');
  const data = `${PREFIX}.${payload}`;
  return { token: `${data}.${sign(null, Buffer.from(data), privateKey).toString('base64url')}`, claims };
}

export interface InstanceTokenTrust {
  // Any of them may have signed the token.
  publicKeys: readonly KeyObject[];
  isRevoked(id: string): boolean;
}

// The signed claims of a genuine, unexpired, unrevoked token; throws
// InstanceTokenError with a one-line reason otherwise. Scope (region,
// service) is the caller's to check: that is a 403, not a 401.
export function verifyInstanceToken(token: string, trust: InstanceTokenTrust, now = Date.now()): InstanceTokenClaims {
  if (token.length > MAX_INSTANCE_TOKEN_LENGTH) throw new InstanceTokenError(`instance token is longer than ${MAX_INSTANCE_TOKEN_LENGTH} characters`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1] || !parts[2]) {
    throw new InstanceTokenError(`not an instance token (expected ${PREFIX}.<payload>.<signature>)`);
  }
  const [, payload, signature] = parts as [string, string, string];
  if (trust.publicKeys.length === 0) {
    throw new InstanceTokenError('this zone holds no instance token signing key yet (it has not been welcomed by the global controller)');
  }
  const data = Buffer.from(`${PREFIX}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  if (!trust.publicKeys.some((key) => verify(null, data, key, sig))) {
    throw new InstanceTokenError('instance token signature is not valid for this mesh');
  }
  const claims = readClaims(payload);
  if (claims.expiresAt * 1000 <= now) throw new InstanceTokenError(`instance token ${claims.id} expired at ${new Date(claims.expiresAt * 1000).toISOString()}`);
  if (trust.isRevoked(claims.id)) throw new InstanceTokenError(`instance token ${claims.id} has been revoked`);
  return claims;
}

// The token's id, unverified: for logs and messages only.
export function peekInstanceTokenId(token: string): string | undefined {
  try {
    return readClaims(token.split('.')[1] ?? '').id;
  } catch {
    return undefined;
  }
}

export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`instance token signing keys are Ed25519, this one is ${key.asymmetricKeyType}`);
  return key;
}

function readClaims(payload: string): InstanceTokenClaims {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InstanceTokenError('instance token payload is not JSON');
  }
  const { r, s, iat, exp, jti } = raw ?? {};
  if (typeof r !== 'string' || typeof s !== 'string' || typeof jti !== 'string' || !Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) {
    throw new InstanceTokenError('instance token payload is malformed');
  }
  return { id: jti, region: r, service: s, issuedAt: iat as number, expiresAt: exp as number };
}
