// Admission, the first layer: what is refused before anything is routed.
// A request that already passed too many gateways (508: a loop), an
// ambiguous Host or body framing (400, connection closed: the next request
// on it could not be told apart), and the caller's authentication where the
// listener is a trust boundary: an ingress's HTTPS listener (mTLS, the
// caller's certificate) or the mesh listener (the region's workloads).
// Whether an authenticated caller may call the service it names is decided
// once it is routed (route-request.ts).
import type { IngressAuthorizer, VerifiedCaller } from '../identity/ingress-authorizer';
import { isRefusal } from '../identity/ingress-authorizer';
import { isMeshRefusal, type MeshCaller } from '../identity/mesh-authorizer';
import type { ExchangeContext, RequestEntry } from './exchange-context';
import type { Refusal } from './local-reply';
import type { RequestHead } from './request-head';

// Who called, as admission found it; fields of the request's own object.
export interface AdmittedCaller {
  // At an ingress's HTTPS listener: the verified proxy or workload.
  ingressCaller: VerifiedCaller | undefined;
  // At the mesh listener: the workload that called.
  meshCaller: MeshCaller | undefined;
}

type Authenticated = Parameters<IngressAuthorizer['authenticate']>[0];

// The head's own faults. null: none.
export function checkHead(proxy: ExchangeContext, head: RequestHead): Refusal | null {
  if (proxy.mode === 'edge' && head.hops >= proxy.maxHops) {
    return { status: 508, message: `loop detected: the request already passed ${head.hops} meridian gateway(s) (limit ${proxy.maxHops})` };
  }
  if (head.hostCount > 1) return { status: 400, message: 'conflicting Host headers', close: true };
  if (head.conflictingContentLength || (head.transferEncoding && head.contentLength >= 0)) {
    return { status: 400, message: 'ambiguous request body framing', close: true };
  }
  return null;
}

// Who calls, where the listener is a trust boundary. null: admitted (the
// caller, if any, in `into`); else the refusal to answer.
export function authenticateCaller(proxy: ExchangeContext, req: Authenticated, scheme: 'http' | 'https', entry: RequestEntry, into: AdmittedCaller): Refusal | null {
  if (entry === 'mesh') {
    const caller = proxy.meshAuthorizer!.authenticate(req, scheme === 'https');
    if (isMeshRefusal(caller)) return caller;
    into.meshCaller = caller;
  } else if (scheme === 'https' && proxy.authorizer !== undefined) {
    const caller = proxy.authorizer.authenticate(req);
    if (isRefusal(caller)) return caller;
    into.ingressCaller = caller;
  }
  return null;
}
