// /v1/instance-tokens: instance tokens, scoped to a region and a service, with
// which whatever starts instances registers them with the region's zone
// controller.
//   POST   /v1/instance-tokens       {region, service, ttl?} -> {token, id, ...} (the token is shown once)
//   GET    /v1/instance-tokens       {tokens: [record...]}: never the tokens themselves
//   DELETE /v1/instance-tokens/{id}  revoke: zones refuse it from the next policy they get
// service "*" is every service of the region: a credential for a deployment
// system that starts all of them, to be held like one.
import type * as http from 'node:http';
import { parseDuration } from '../../lib/resources';
import { ALL_SERVICES, makeInstanceToken } from '../../lib/auth/instance-token';
import type { InstanceTokenSigningKey } from '../auth/instance-token-signing-key';
import type { InstanceTokenRecord, InstanceTokenRecords } from '../auth/instance-token-records';
import { HttpError, sendJson } from './http-response';
import { readBody } from './read-body';
import { decodePathSegment } from './request-path';

export interface InstanceTokenRouteDeps {
  signingKey: InstanceTokenSigningKey;
  records: InstanceTokenRecords;
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DAY_MS = 24 * 3600_000;
export const DEFAULT_INSTANCE_TOKEN_TTL_MS = 30 * DAY_MS;
export const MAX_INSTANCE_TOKEN_TTL_MS = 365 * DAY_MS;
// Token ids are 16 hex digits: anything else is a malformed request.
const ID = /^[0-9a-f]{16}$/;

// Returns the route name for metrics.
export async function instanceTokenRoutes(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  method: string,
  path: string,
  deps: InstanceTokenRouteDeps,
): Promise<string> {
  if (path === '/v1/instance-tokens') {
    if (method === 'POST') {
      await create(req, res, deps);
      return 'instance-tokens-create';
    }
    if (method === 'GET') {
      const tokens = await store(() => deps.records.list());
      sendJson(res, 200, { tokens: tokens.map(view) });
      return 'instance-tokens-list';
    }
    throw new HttpError(405, `${method} is not allowed on ${path}; use GET or POST`, [], { allow: 'GET, POST' });
  }
  const id = decodePathSegment(path.slice('/v1/instance-tokens/'.length), 'id');
  if (method !== 'DELETE') throw new HttpError(405, `${method} is not allowed on ${path}; use DELETE to revoke`, [], { allow: 'DELETE' });
  if (!ID.test(id)) throw new HttpError(400, `id: '${id.slice(0, 64)}' is not an instance token id (16 hex digits, as GET /v1/instance-tokens shows them)`);
  const record = await store(() => deps.records.revoke(id));
  if (!record) throw new HttpError(404, `no instance token '${id}'`);
  sendJson(res, 200, view(record));
  return 'instance-tokens-revoke';
}

async function create(req: http.IncomingMessage, res: http.ServerResponse, deps: InstanceTokenRouteDeps): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse((await readBody(req, 64 * 1024)) || '{}');
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body: must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!['region', 'service', 'ttl'].includes(key)) throw new HttpError(400, `${key}: unknown field (expected region, service, ttl)`);
  }
  const { region, service, ttl } = body;
  if (typeof region !== 'string' || !NAME.test(region)) throw new HttpError(400, 'region: must be a region name (lower-case letters, digits and dashes)');
  if (typeof service !== 'string' || (service !== ALL_SERVICES && !NAME.test(service))) {
    throw new HttpError(400, `service: must be a service name (lower-case letters, digits and dashes) or "${ALL_SERVICES}" for every service of the region`);
  }
  const ttlMs = ttl === undefined ? DEFAULT_INSTANCE_TOKEN_TTL_MS : parseTokenTtl(ttl);

  const signer = await store(() => deps.signingKey.get());
  const { token, claims } = makeInstanceToken(signer.privateKey, { region, service }, ttlMs);
  const record: InstanceTokenRecord = {
    id: claims.id,
    region,
    service,
    createdAt: new Date(claims.issuedAt * 1000).toISOString(),
    expiresAt: new Date(claims.expiresAt * 1000).toISOString(),
  };
  // Recorded before it is handed out, so every token in use can be listed and revoked.
  await store(() => deps.records.create(record));
  sendJson(res, 201, { token, ...view(record) });
}

// "30d", "12h", "90m": days as well as the resource durations.
export function parseTokenTtl(value: unknown): number {
  const text = String(value);
  let ms: number;
  const days = /^(\d{1,4})d$/.exec(text);
  try {
    ms = days ? Number(days[1]) * DAY_MS : parseDuration(text);
  } catch {
    throw new HttpError(400, `ttl: '${text}' is not a duration like 30d, 12h or 90m`);
  }
  if (!(ms > 0) || ms > MAX_INSTANCE_TOKEN_TTL_MS) throw new HttpError(400, `ttl: must be more than 0 and at most 365 days, got '${text}'`);
  return ms;
}

function view(record: InstanceTokenRecord): InstanceTokenRecord & { state: 'active' | 'revoked' | 'expired' } {
  const state = record.revokedAt ? 'revoked' : Date.parse(record.expiresAt) <= Date.now() ? 'expired' : 'active';
  return { ...record, state };
}

// etcd away: 503, the client may retry.
async function store<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(503, `the resource store (etcd) is unavailable: ${(err as Error).message}`, [], { 'retry-after': '2' }, err);
  }
}
