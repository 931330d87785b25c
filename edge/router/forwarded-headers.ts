// The headers a gateway adds on the way in: Host (the client's, or the
// authority of an absolute-form target: route-request.ts), x-forwarded-for,
// x-forwarded-proto, x-forwarded-host, Forwarded (RFC 7239) and x-request-id
// (kept if present, generated otherwise). The rest pass untouched, but
// traceparent: each hop sends its own (edge/observability/hop-trace.ts).
//
// An edge is the trust boundary: what a client says in the forwarding headers
// is dropped and replaced by what the edge saw (the peer's address, the
// listener's scheme, the host it routed on), unless the peer is one of
// --trusted-proxies (a load balancer in front): then x-forwarded-for and
// Forwarded are appended to and x-forwarded-proto/-host kept. An ingress
// receives them from an edge of the mesh and trusts every peer the same way.
import type { RequestIdGenerator } from './request-id';
import type { TrustedProxies } from './trusted-proxies';

export interface ForwardingOptions {
  // true at an ingress: every peer is a gateway of the mesh.
  trustForwarded: boolean;
  // The peers an edge takes forwarding headers from (--trusted-proxies).
  trustedProxies: TrustedProxies;
  ids: RequestIdGenerator;
}

// What it reads of the request's head (request/request-head.ts is one).
export interface ForwardingHead {
  readonly host: string;
  readonly forwardedFor: string | undefined;
  readonly forwardedProto: string | undefined;
  readonly forwardedHost: string | undefined;
  readonly forwarded: string | undefined;
  readonly requestId: string | undefined;
  // Headers to pass on, flat.
  readonly headers: string[];
  clientAddress: string | undefined;
}

// Appends to head.headers and sets head.clientAddress; returns the request id in force.
export function addForwardedHeaders(head: ForwardingHead, peer: string | undefined, scheme: string, options: ForwardingOptions): string {
  const out = head.headers;
  const host = head.host;
  if (host !== '') out.push('host', host);
  const trusted = options.trustForwarded || options.trustedProxies.trusts(peer);
  head.clientAddress = trusted ? options.trustedProxies.clientOf(head.forwardedFor, peer) : peer;
  const forwardedFor = !trusted || head.forwardedFor === undefined ? peer : peer === undefined ? head.forwardedFor : `${head.forwardedFor}, ${peer}`;
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor);
  out.push('x-forwarded-proto', (trusted ? head.forwardedProto : undefined) ?? scheme);
  const forwardedHost = (trusted ? head.forwardedHost : undefined) ?? host;
  if (forwardedHost !== '') out.push('x-forwarded-host', forwardedHost);
  const element = forwardedElement(peer, host, scheme);
  out.push('forwarded', trusted && head.forwarded !== undefined ? `${head.forwarded}, ${element}` : element);
  const id = head.requestId ?? options.ids.next();
  out.push('x-request-id', id);
  return id;
}

// One Forwarded element for this hop: for=, host=, proto= (RFC 7239 4, with
// an IPv6 address in brackets and quotes, the host quoted).
export function forwardedElement(peer: string | undefined, host: string, scheme: string): string {
  const node = peer === undefined ? 'unknown' : peer.includes(':') ? `"[${peer}]"` : peer;
  const hostPart = host === '' ? '' : `;host="${host.replace(/["\\]/g, '\\$&')}"`;
  return `for=${node}${hostPart};proto=${scheme}`;
}
