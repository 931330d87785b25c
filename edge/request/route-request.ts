// Routing, the second layer: from the request target to the backend a
// request goes to, or the answer to give when there is none.
//   target: resolveTarget (the absolute form's authority, the path normalized)
//   route:  the mesh listener's <service>.mesh (mesh-target.ts), the service
//           a proxy names at an ingress (x-meridian-service, -port), else
//           host + path + TrafficRoute rules (../router/)
//   permit: may the authenticated caller (admission.ts) call the service?
//   backend: the service port's backend (../backend/), now counted in flight
//   plan:   at an ingress, a relayed request goes to its target region only
//           (../relay/relay-decision.ts)
// The result is written into the request's own object (routed-request.ts).
import { portNamed } from '../backend/service-ports';
import type { VerifiedCaller } from '../identity/ingress-authorizer';
import type { MeshCaller } from '../identity/mesh-authorizer';
import { decideRelay } from '../relay/relay-decision';
import { normalizeHost } from '../router/host';
import { normalizeRequestPath, PathRefusal } from '../router/normalize-path';
import { pathOf } from '../router/path-prefix';
import type { RouteResult } from '../router/router';
import type { ClientRequest } from './client-types';
import type { ExchangeContext, RequestEntry } from './exchange-context';
import { noInstanceMessage, type Refusal } from './local-reply';
import { meshTarget } from './mesh-target';
import type { RequestHead } from './request-head';
import type { RoutedRequest } from './routed-request';

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

// null: routed (into `x`); else the refusal to answer. `now`: the request's arrival.
export function routeRequest(
  proxy: ExchangeContext,
  head: RequestHead,
  rawUrl: string,
  method: string,
  req: ClientRequest,
  entry: RequestEntry,
  // Who called, as admission.ts authenticated them.
  ingressCaller: VerifiedCaller | undefined,
  meshCaller: MeshCaller | undefined,
  x: RoutedRequest,
  now: number,
): Refusal | null {
  // Absolute form: its authority becomes head.host; the path normalized.
  const url = resolveTarget(head, rawUrl);
  const hostKey = normalizeHost(head.host);
  x.hostKey = hostKey;
  if (url instanceof PathRefusal) return { status: 400, message: url.reason };

  const router = proxy.router;
  let port: string | undefined;
  let route: RouteResult | undefined;
  if (entry === 'mesh') {
    const target = meshTarget(hostKey, head.host, req.socket?.localPort, proxy.meshListenerPorts, (name) => proxy.backends.service(name));
    if (typeof target === 'string') return { status: 404, message: target };
    route = router.mesh(target.service, url, method, req);
    port = route.backend === route.service ? target.port : undefined;
    const denied = proxy.meshAuthorizer!.permit(meshCaller!, route.service, route.backend);
    if (denied) return denied;
  } else if (proxy.mode === 'ingress' && head.meshService !== undefined) {
    route = router.direct(head.meshService, url);
    port = head.meshPort;
  } else {
    route = router.route(hostKey, url, method, req);
  }
  if (route === undefined) {
    if (hostKey === '') return { status: 400, message: 'the request names no host' };
    const message = router.hasHost(hostKey) ? `no route for path '${pathOf(url)}' on host '${hostKey}'` : `no service is configured for host '${hostKey}'`;
    return { status: 404, message };
  }
  if (ingressCaller !== undefined) {
    const denied = proxy.authorizer!.permit(ingressCaller, route.service, req, head.sourceIdentity);
    if (denied) return denied;
    // Passed on (a relay) only when a verified proxy said it and permit took its word.
    x.sourceIdentity = proxy.authorizer!.vouchedSource(ingressCaller, head.sourceIdentity);
  } else if (meshCaller !== undefined) {
    x.sourceIdentity = meshCaller.identity;
  }
  x.route = route;
  // A proxy names the port (x-meridian-port); a tcp one is reached only by meridian-tcp.
  if (port !== undefined && portNamed(proxy.backends.service(route.backend), port)?.protocol === 'tcp') {
    return { status: 404, message: `service '${route.backend}' port '${port}' is a tcp port: HTTP requests are not sent to it` };
  }
  const backend = proxy.backends.get(route.backend, port);
  if (backend === undefined) {
    if (port !== undefined && proxy.backends.service(route.backend) !== undefined) return { status: 404, message: `service '${route.backend}' has no port '${port}'` };
    return { status: 503, message: noInstanceMessage(route.backend), retryAfterSeconds: 1 };
  }
  x.backend = backend;
  backend.metrics.inFlight.inc();
  backend.budget.onRequest(now);
  if (proxy.mode === 'ingress' && head.targetRegion !== undefined) {
    const relay = decideRelay(proxy.region, proxy.maxHops, head.targetRegion, head.hops, backend.relays);
    if (relay.kind === 'refuse') return relay;
    if (relay.kind === 'forward') x.plan = [relay.target];
  }
  return null;
}
