// Who may read a part's own state over its admin HTTP port (the zone's
// /v1/state, a proxy's /v1/view): callers on this host, or, where the part
// has one, the bearer of its admin token (compared in constant time). These
// pages show addresses, identities and peers: a map for an attacker, so not
// for whoever can reach the port.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { isLoopbackAddress } from '../net/loopback';
import { checkToken } from './token-rule';

export type AccessDecision = { allowed: true } | { allowed: false; status: 401 | 403; reason: string };

export interface AccessRequest {
  // req.socket.remoteAddress
  remoteAddress: string | undefined;
  // The Authorization header, if any.
  authorization: string | undefined;
}

const ALLOWED: AccessDecision = { allowed: true };

export interface AccessPolicy {
  // sha256 of the admin token (see readAdminToken); none: only loopback callers get in.
  tokenDigest?: Buffer;
  // The flag that would give the part a token, named in the refusal.
  tokenFlag?: string;
}

export function decideLocalAdminAccess(req: AccessRequest, policy: AccessPolicy = {}): AccessDecision {
  if (isLoopbackAddress(req.remoteAddress)) return ALLOWED;
  const { tokenDigest, tokenFlag } = policy;
  if (!tokenDigest) return { allowed: false, status: 403, reason: `only callers on this host may read this${tokenFlag ? ` (started without ${tokenFlag})` : ''}` };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization ?? '');
  if (!m) return { allowed: false, status: 401, reason: 'a bearer token is required from another host (Authorization: Bearer <token>)' };
  // Digests of equal length, so the comparison takes the same time whatever the token.
  const given = createHash('sha256').update(m[1]!).digest();
  if (!timingSafeEqual(given, tokenDigest)) return { allowed: false, status: 401, reason: 'the bearer token is not valid' };
  return ALLOWED;
}

export function adminTokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

// The token file: one line, one token (lib/auth/token-rule).
export function readAdminToken(file: string, flag: string): Buffer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return adminTokenDigest(checkToken(text.trim(), `${flag} ${file}`));
}
