// Host and path to a backend, with the answer to give when there is none: the
// request target (resolveTarget: the absolute form's authority, the path
// normalized), the router (or the service an ingress is told), then the
// backend. Used by protocol upgrades (upgrade-exchange.ts); exchange.ts runs
// the same steps inline.
import type { Backend } from '../backend/backend';
import type { ExchangeContext } from './exchange-context';
import { normalizeHost } from '../router/host';
import { normalizeRequestPath, PathRefusal } from '../router/normalize-path';
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

const ABSOLUTE_FORM = /^https?:\/\//i;

// The origin-form target to route and forward, its path normalized
// (router/normalize-path.ts), or why it is refused (400). An absolute-form
// target (RFC 9112 3.2.2, "GET http://host/path") names the host: its
// authority replaces head.host, so routing, the Host header sent upstream and
// x-forwarded-host all say the same host. Userinfo in it is refused: it would
// make "http://good.example@evil.example/" mean one host to one reader and
// another to the next.
export function resolveTarget(head: RequestHead, rawUrl: string): string | PathRefusal {
  let url = rawUrl;
  if (url.charCodeAt(0) !== 47 /* / */ && ABSOLUTE_FORM.test(url)) {
    const start = url.indexOf('//') + 2;
    let end = start;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
      end++;
    }
    const authority = url.slice(start, end);
    if (authority.includes('@')) return new PathRefusal('userinfo in the request target');
    head.host = authority;
    const rest = url.slice(end);
    url = rest.charCodeAt(0) === 47 ? rest : '/' + rest;
  }
  return normalizeRequestPath(url);
}

export function routeRequest(proxy: ExchangeContext, head: RequestHead, rawUrl: string, method: string, req: HeaderSource): Routed | NotRouted {
  const url = resolveTarget(head, rawUrl);
  if (url instanceof PathRefusal) return { ok: false, hostKey: normalizeHost(head.host), status: 400, message: url.reason };
  const hostKey = normalizeHost(head.host);
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
