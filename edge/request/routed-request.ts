// What routing decided about a request (route-request.ts fills it in), and
// what the layers below it read: the service the host and path named, the
// backend (service port) it goes to, the regions it may use, and the
// identity it is sent on behalf of. The request's own object holds these
// fields (no object per request for them).
import type { Backend } from '../backend/backend';
import type { RegionTarget } from '../region-picker/region-target';
import type { RouteResult } from '../router/router';

export interface RoutedRequest {
  // The host routed on, normalized ('' when the request named none).
  hostKey: string;
  // The service and backend the host and path named, and the path to send.
  route: RouteResult | undefined;
  backend: Backend | undefined;
  // The regions it may go to: null for its backend's plan; at an ingress
  // relaying it, only the target region.
  plan: readonly RegionTarget[] | null;
  // Passed on to a remote ingress (x-meridian-source-identity): the mesh
  // listener's caller, or at an ingress what a verified proxy vouched for.
  sourceIdentity: string | undefined;
}
