// The headers a gateway adds on the way in: Host kept as the client sent it,
// x-forwarded-for appended with the peer's address, x-forwarded-proto and
// x-forwarded-host, x-request-id (kept if present, generated otherwise).
// The rest pass untouched, but traceparent: each hop sends its own
// (edge/observability/hop-trace.ts). An edge is the trust boundary: it
// sets proto and host itself. An ingress receives them from an edge of the
// mesh and keeps them.
import type { RequestHead } from '../request/request-head';
import type { RequestIdGenerator } from './request-id';

export interface ForwardingOptions {
  // true at an ingress: keep x-forwarded-proto/-host from the sending edge.
  trustForwarded: boolean;
  ids: RequestIdGenerator;
}

// Appends to head.headers; returns the request id in force.
export function addForwardedHeaders(head: RequestHead, peer: string | undefined, scheme: string, options: ForwardingOptions): string {
  const out = head.headers;
  if (head.host !== '') out.push('host', head.host);
  const forwardedFor = peer === undefined ? head.forwardedFor : head.forwardedFor === undefined ? peer : `${head.forwardedFor}, ${peer}`;
  if (forwardedFor !== undefined) out.push('x-forwarded-for', forwardedFor);
  if (options.trustForwarded) {
    out.push('x-forwarded-proto', head.forwardedProto ?? scheme);
    const fh = head.forwardedHost ?? head.host;
    if (fh !== '') out.push('x-forwarded-host', fh);
  } else {
    out.push('x-forwarded-proto', scheme);
    if (head.host !== '') out.push('x-forwarded-host', head.host);
  }
  const id = head.requestId ?? options.ids.next();
  out.push('x-request-id', id);
  return id;
}
