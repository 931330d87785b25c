// /v1/tokens: join tokens for zone controllers. POST makes one (signed,
// expiring, recorded in etcd so it buys one join); GET lists the records;
// DELETE /v1/tokens/<id> revokes one.
import type * as http from 'node:http';
import { parseDuration } from '../../lib/resources';
import { createJoinToken } from '../../lib/auth/join-tokens';
import { JoinSigningKeyError, type JoinSigningKey } from '../auth/join-signing-key';
import { JoinTokenLimit, JoinTokenNotFound, tokenState, type JoinTokenRecord, type JoinTokenRecords } from '../auth/join-token-records';
import type { RootCaStore } from '../identity/root-ca-store';
import { HttpError, sendJson } from './http-response';
import { decodePathSegment } from './request-path';
import { readBody } from './read-body';

const REGION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const TOKEN_ID = /^[0-9a-f]{1,64}$/;
export const DEFAULT_TTL_MS = 24 * 3600_000;
export const MAX_TTL_MS = 7 * 24 * 3600_000;

export interface TokenRouteDeps {
  joinKey: JoinSigningKey;
  joinTokens: JoinTokenRecords;
  trustDomain: string;
  replica: string;
  rootCa?: RootCaStore;
}

export async function tokenRoutes(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, deps: TokenRouteDeps): Promise<string> {
  if (path === '/v1/tokens' && method === 'POST') {
    await createToken(req, res, deps);
    return 'tokens';
  }
  if (path === '/v1/tokens' && method === 'GET') {
    const records = await unavailableOnFailure(() => deps.joinTokens.list());
    const now = Date.now();
    sendJson(res, 200, { tokens: records.map((r) => view(r, now)) });
    return 'tokens-list';
  }
  const m = /^\/v1\/tokens\/([^/]+)\/?$/.exec(path);
  if (m && method === 'DELETE') {
    const id = decodePathSegment(m[1]!, 'id');
    if (!TOKEN_ID.test(id)) throw new HttpError(400, `id: '${id.slice(0, 64)}' is not a join token id (hex, as meridian token list shows it)`);
    let record: JoinTokenRecord;
    try {
      record = await unavailableOnFailure(() => deps.joinTokens.revoke(id), JoinTokenNotFound);
    } catch (err) {
      if (err instanceof JoinTokenNotFound) throw new HttpError(404, err.message);
      throw err;
    }
    sendJson(res, 200, view(record, Date.now()));
    return 'tokens-revoke';
  }
  if (path === '/v1/tokens' || m) throw new HttpError(405, `${method} is not allowed on ${path}`);
  throw new HttpError(404, `no such endpoint: ${method} ${path}`);
}

// What a list shows of a record: nothing secret is in it.
function view(r: JoinTokenRecord, now: number): Record<string, unknown> {
  return {
    id: r.id,
    region: r.region,
    state: tokenState(r, now),
    createdAt: iso(r.createdAtMs),
    expiresAt: iso(r.expiresAtMs),
    createdBy: r.createdBy,
    usedAt: r.usedAtMs === undefined ? null : iso(r.usedAtMs),
    usedBy: r.usedBy ?? null,
    usedByKey: r.usedByKey ?? null,
    revokedAt: r.revokedAtMs === undefined ? null : iso(r.revokedAtMs),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function createToken(req: http.IncomingMessage, res: http.ServerResponse, deps: TokenRouteDeps): Promise<void> {
  let body: { region?: unknown; ttl?: unknown };
  try {
    body = JSON.parse((await readBody(req, 64 * 1024)) || '{}');
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof body.region !== 'string' || !REGION_NAME.test(body.region)) {
    throw new HttpError(400, 'region: must be a region name (lower-case letters, digits and dashes)');
  }
  let ttlMs = DEFAULT_TTL_MS;
  if (body.ttl !== undefined) {
    try {
      ttlMs = parseDuration(String(body.ttl));
    } catch {
      throw new HttpError(400, `ttl: '${String(body.ttl)}' is not a duration like 1h or 30m`);
    }
    if (ttlMs <= 0 || ttlMs > MAX_TTL_MS) throw new HttpError(400, `ttl: '${String(body.ttl)}' is out of range: a join token lives more than 0 and at most 7 days (168h)`);
  }
  const region = body.region;
  const { key, rootFingerprint } = await unavailableOnFailure(async () => ({
    key: await deps.joinKey.get(),
    // The active root: the one the federation server's certificate is signed by.
    rootFingerprint: deps.rootCa ? await deps.rootCa.activeFingerprint() : undefined,
  }));
  const now = Date.now();
  const { token, claims } = createJoinToken(key, region, ttlMs, now, deps.trustDomain, rootFingerprint);
  // Recorded before it is handed out: a token without a record joins nothing.
  try {
    await unavailableOnFailure(
      () => deps.joinTokens.create({ id: claims.id, region, createdAtMs: now, expiresAtMs: claims.expiresAt * 1000, createdBy: `admin API (replica ${deps.replica})` }),
      JoinTokenLimit,
    );
  } catch (err) {
    if (err instanceof JoinTokenLimit) throw new HttpError(409, err.message);
    throw err;
  }
  sendJson(res, 200, { token, id: claims.id, region: claims.region, expiresAt: iso(claims.expiresAt * 1000), rootFingerprint: claims.rootFingerprint });
}

// A store failure is a 503 the caller may retry; `passthrough` errors are the caller's to map.
async function unavailableOnFailure<T>(f: () => Promise<T>, passthrough?: new (...args: never[]) => Error): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (passthrough && err instanceof passthrough) throw err;
    // A join signing key that does not open is the operator's to fix: retrying will not help.
    if (err instanceof JoinSigningKeyError) throw new HttpError(500, `cannot make join tokens: ${err.message}`);
    throw new HttpError(503, `the resource store (etcd) is unavailable: ${(err as Error).message}`, [], { 'retry-after': '2' });
  }
}
