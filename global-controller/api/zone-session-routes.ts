// /v1/zone-sessions: the live zone session of each region (who holds it,
// since when, how it joined), and DELETE /v1/zone-sessions/<region> to end
// one: the stream ends and its zone CA key is revoked, so that zone cannot
// come back with its leaf; the region joins again with a new join token.
import type * as http from 'node:http';
import { ZoneSessionNotFound, type ZoneSessionRegistry } from '../zones/zone-session-registry';
import type { ZoneSessionRecord } from '../zones/zone-session-claim';
import { HttpError, sendJson } from './http-response';
import { decodePathSegment } from './request-path';

const REGION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export async function zoneSessionRoutes(res: http.ServerResponse, method: string, path: string, sessions: ZoneSessionRegistry): Promise<string> {
  if (path === '/v1/zone-sessions' && method === 'GET') {
    const list = await unavailableOnFailure(() => sessions.list());
    sendJson(res, 200, { sessions: list.map(view) });
    return 'zone-sessions';
  }
  const m = /^\/v1\/zone-sessions\/([^/]+)\/?$/.exec(path);
  if (m && method === 'DELETE') {
    const region = decodePathSegment(m[1]!, 'region');
    if (!REGION_NAME.test(region)) throw new HttpError(400, `region: '${region.slice(0, 64)}' is not a region name (lower-case letters, digits and dashes)`);
    try {
      const { session, revoked } = await unavailableOnFailure(() => sessions.end(region), ZoneSessionNotFound);
      sendJson(res, 200, { ...view(session), ended: true, revokedAt: new Date(revoked.revokedAtMs).toISOString() });
    } catch (err) {
      if (err instanceof ZoneSessionNotFound) throw new HttpError(404, err.message);
      throw err;
    }
    return 'zone-sessions-end';
  }
  if (path === '/v1/zone-sessions' || m) throw new HttpError(405, `${method} is not allowed on ${path}`);
  throw new HttpError(404, `no such endpoint: ${method} ${path}`);
}

function view(s: ZoneSessionRecord): Record<string, unknown> {
  return { region: s.region, zoneId: s.zoneId, replica: s.replica, identity: s.identity, since: new Date(s.sinceMs).toISOString(), auth: s.auth };
}

async function unavailableOnFailure<T>(f: () => Promise<T>, passthrough?: new (...args: never[]) => Error): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (passthrough && err instanceof passthrough) throw err;
    throw new HttpError(503, `the resource store (etcd) is unavailable: ${(err as Error).message}`, [], { 'retry-after': '2' });
  }
}
