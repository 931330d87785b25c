// Host and path to a backend, with the answer to give when there is none: the
// absolute request form (its authority wins over Host), the router (or the
// service an ingress is told), then the backend. Used by protocol upgrades
// (upgrade-exchange.ts); exchange.ts runs the same steps inline.
import type { Backend } from '../backend/backend';
import type { ExchangeContext } from './exchange-context';
import { normalizeHost } from '../router/host';
import { pathOf } from '../router/path-prefix';
import type { RouteResult } from '../router/router';
import type { HeaderSource } from '../router/traffic-rules';
import type { RequestHead } from './request-head';

export interface Routed {
  ok: true;
  hostKey: string;
  route: RouteResult;
  backend: Backend;
}

export interface NotRouted {
  ok: false;
  hostKey: string;
  status: number;
  message: string;
  retryAfterSeconds?: number;
}

export function routeRequest(proxy: ExchangeContext, head: RequestHead, rawUrl: string, method: string, req: HeaderSource): Routed | NotRouted {
  let url = rawUrl;
  let host = head.host;
  if (url.charCodeAt(0) !== 47 /* / */ && (url.startsWith('http://') || url.startsWith('https://'))) {
    const start = url.indexOf('//') + 2;
    const slash = url.indexOf('/', start);
    host = slash < 0 ? url.slice(start) : url.slice(start, slash);
    url = slash < 0 ? '/' : url.slice(slash);
  }
  const hostKey = normalizeHost(host);
  const router = proxy.router;
  const route = proxy.mode === 'ingress' && head.meshService !== undefined ? router.direct(head.meshService, url) : router.route(hostKey, url, method, req);
  if (route === undefined) {
    if (hostKey === '') return { ok: false, hostKey, status: 400, message: 'the request names no host' };
    const message = router.hasHost(hostKey) ? `no route for path '${pathOf(url)}' on host '${hostKey}'` : `no service is configured for host '${hostKey}'`;
    return { ok: false, hostKey, status: 404, message };
  }
  const backend = proxy.backends.get(route.backend);
  if (backend === undefined) {
    return { ok: false, hostKey, status: 503, message: `no healthy instance of service '${route.backend}' in any region`, retryAfterSeconds: 1 };
  }
  return { ok: true, hostKey, route, backend };
}
