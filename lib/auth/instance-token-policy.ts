// What a zone needs to check instance tokens: the public keys that sign them
// and the revoked ids still within their lifetime. The global controller
// sends it on the federation stream; the zone keeps the last one in memory
// and on disk (it is public), so it checks tokens while the global
// controller is away, also after a restart.
import type { KeyObject } from 'node:crypto';
import { publicKeyFromPem, type InstanceTokenTrust } from './instance-token';

export interface RevokedInstanceToken {
  id: string;
  expiresAt: number; // unix seconds
}

export interface InstanceTokenPolicy {
  publicKeys: string[]; // PEM SPKI, Ed25519
  revoked: RevokedInstanceToken[];
}

// Bounds on what a zone takes from the stream or its file.
export const MAX_POLICY_KEYS = 16;
export const MAX_REVOKED_TOKENS = 100_000;

// Validates a policy from the wire or a file and drops the revoked entries
// whose tokens have expired anyway. Throws with the field that is wrong.
export function readInstanceTokenPolicy(input: unknown, now = Date.now()): InstanceTokenPolicy {
  const fields = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const { publicKeys, revoked } = fields;
  if (!Array.isArray(publicKeys) || publicKeys.length > MAX_POLICY_KEYS || !publicKeys.every((k) => typeof k === 'string')) {
    throw new Error(`publicKeys: must be a list of at most ${MAX_POLICY_KEYS} PEM public keys`);
  }
  for (const [i, pem] of publicKeys.entries()) {
    try {
      publicKeyFromPem(pem as string);
    } catch (err) {
      throw new Error(`publicKeys[${i}]: ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(revoked) || revoked.length > MAX_REVOKED_TOKENS) throw new Error(`revoked: must be a list of at most ${MAX_REVOKED_TOKENS} entries`);
  const entries: RevokedInstanceToken[] = [];
  for (const [i, entry] of revoked.entries()) {
    const { id, expiresAt } = (entry ?? {}) as { id?: unknown; expiresAt?: unknown };
    const seconds = typeof expiresAt === 'string' ? Number(expiresAt) : expiresAt;
    if (typeof id !== 'string' || id === '' || id.length > 64 || !Number.isSafeInteger(seconds)) {
      throw new Error(`revoked[${i}]: must be {id, expiresAt (unix seconds)}`);
    }
    entries.push({ id, expiresAt: seconds as number });
  }
  return pruneRevoked({ publicKeys: publicKeys as string[], revoked: entries }, now);
}

export function pruneRevoked(policy: InstanceTokenPolicy, now = Date.now()): InstanceTokenPolicy {
  const nowSeconds = Math.floor(now / 1000);
  return { publicKeys: policy.publicKeys, revoked: policy.revoked.filter((r) => r.expiresAt > nowSeconds) };
}

// The policy in the form verifyInstanceToken takes.
export function trustOf(policy: InstanceTokenPolicy): InstanceTokenTrust {
  const publicKeys: KeyObject[] = policy.publicKeys.map(publicKeyFromPem);
  const revoked = new Set(policy.revoked.map((r) => r.id));
  return { publicKeys, isRevoked: (id) => revoked.has(id) };
}
