// POST /v1/tokens: signed, expiring join tokens for zone controllers.
import type * as http from 'node:http';
import { parseDuration } from '../../lib/resources';
import { createJoinToken } from '../auth/join-tokens';
import type { JoinSigningKey } from '../auth/join-signing-key';
import type { RootCaStore } from '../identity/root-ca-store';
import { HttpError, sendJson } from './http-response';
import { readBody } from './read-body';

const REGION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_TTL_MS = 365 * 24 * 3600_000;

export async function createToken(req: http.IncomingMessage, res: http.ServerResponse, joinKey: JoinSigningKey, trustDomain: string, rootCa?: RootCaStore): Promise<void> {
  let body: { region?: unknown; ttl?: unknown };
  try {
    body = JSON.parse((await readBody(req, 64 * 1024)) || '{}');
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof body.region !== 'string' || !REGION_NAME.test(body.region)) {
    throw new HttpError(400, 'region: must be a region name (lower-case letters, digits and dashes)');
  }
  let ttlMs = 24 * 3600_000;
  if (body.ttl !== undefined) {
    try {
      ttlMs = parseDuration(String(body.ttl));
    } catch {
      throw new HttpError(400, `ttl: '${String(body.ttl)}' is not a duration like 1h or 30m`);
    }
    if (ttlMs <= 0 || ttlMs > MAX_TTL_MS) throw new HttpError(400, 'ttl: must be more than 0 and at most 365 days');
  }
  let key: Buffer;
  let rootFingerprint: string | undefined;
  try {
    key = await joinKey.get();
    // The active root: the one the federation server's certificate is signed by.
    rootFingerprint = rootCa ? await rootCa.activeFingerprint() : undefined;
  } catch (err) {
    throw new HttpError(503, `the resource store (etcd) is unavailable: ${(err as Error).message}`, [], { 'retry-after': '2' });
  }
  const { token, claims } = createJoinToken(key, body.region, ttlMs, Date.now(), trustDomain, rootFingerprint);
  sendJson(res, 200, { token, region: claims.region, expiresAt: new Date(claims.expiresAt * 1000).toISOString(), rootFingerprint: claims.rootFingerprint });
}
