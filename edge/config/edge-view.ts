// The one in-memory picture the data plane works from: the resources in force,
// this region's instances and what every other region reports. A view is a
// snapshot: sources (a static file, the discovery stream) build a new one for
// every change, and the gateway compiles it into routing tables once, off the
// request path. Unchanged parts keep their identity from one view to the next
// (the same array for a service whose instances did not change), so whoever
// compiles a view can skip what did not move.
//
// The resource maps of a view never change once handed out (a new map when a
// resource changes). The two large tables do not get a copy per view (at ten
// thousand services a copy per discovery message was most of the edge's
// memory churn): `instances` and each remote region's `services` are the
// source's own tables, updated in place; read them from the newest view.
import type {
  FailoverPolicyResource,
  RegionResource,
  ResiliencePolicyResource,
  ServiceResource,
  TrafficPermissionResource,
  TrafficRouteResource,
  CertificateResource,
} from '../../lib/resources';

export interface LocalInstance {
  id: string;
  service: string;
  address: string;
  port: number;
  // The instance's port for each named port of its Service other than the
  // first (which is `port`); a port not named here is the Service's own number.
  ports?: Readonly<Record<string, number>>;
  weight: number;
  labels: Readonly<Record<string, string>>;
  // The zone controller's active health check; always true in static mode.
  healthy: boolean;
}

export interface RemoteServiceState {
  healthy: number;
  total: number;
  // In-flight requests the region reports for the service.
  load: number;
}

// A remote region's services (a Map does; ./region-services.ts keeps them
// compactly).
export interface RemoteServices extends Iterable<[string, RemoteServiceState]> {
  readonly size: number;
  get(service: string): RemoteServiceState | undefined;
  has(service: string): boolean;
  keys(): IterableIterator<string>;
  entries(): IterableIterator<[string, RemoteServiceState]>;
}

export interface RemoteRegion {
  name: string;
  latitude: number;
  longitude: number;
  // host:port of the region's zone ingress.
  ingressAddress: string;
  reachable: boolean;
  // 0 when not measured.
  rttMs: number;
  services: RemoteServices;
  // Set when the direct tunnel is down and another region still reaches this
  // one: requests go to that region's ingress, naming this region as target.
  relayVia?: string;
  relayIngressAddress?: string;
}

export type ViewSourceKind = 'static' | 'discovery' | 'none';

// What a view changed since the view its source handed out before it (id
// baseId), so the gateway can update only the backends that moved. `all`
// (or no `changes` at all) means: rebuild everything — a full view, a change
// to a resource routing and policies depend on (Service, TrafficRoute,
// ResiliencePolicy, FailoverPolicy, Region), or anything not attributed.
// Otherwise `services` names every service whose local instances changed or
// whose state changed in a remote region (for a remote region whose own
// fields changed, or that came or went: every service in its old or new
// state), and `regions` the remote regions that changed in any way.
export interface ViewChanges {
  readonly all: boolean;
  readonly services: ReadonlySet<string>;
  readonly regions: ReadonlySet<string>;
  // This snapshot's id and the id of the snapshot these changes are relative
  // to: whoever did not apply that one must rebuild everything.
  readonly id: number;
  readonly baseId: number;
}

export interface EdgeView {
  readonly version: number;
  // This proxy's region.
  readonly region: string;
  readonly source: ViewSourceKind;
  readonly services: ReadonlyMap<string, ServiceResource>;
  readonly trafficRoutes: ReadonlyMap<string, TrafficRouteResource>;
  readonly resiliencePolicies: ReadonlyMap<string, ResiliencePolicyResource>;
  readonly failoverPolicies: ReadonlyMap<string, FailoverPolicyResource>;
  // Region resources, for the locations of regions.
  readonly regions: ReadonlyMap<string, RegionResource>;
  // Local instances by service name (the source's live table).
  readonly instances: ReadonlyMap<string, readonly LocalInstance[]>;
  // Every other region by name.
  readonly remoteRegions: ReadonlyMap<string, RemoteRegion>;
  // Which identities may call which service (an ingress checks them).
  readonly trafficPermissions: ReadonlyMap<string, TrafficPermissionResource>;
  // Public certificates the HTTPS listener serves by SNI. The same map object
  // while none changed, so a listener reloads only on a change.
  readonly certificates: ReadonlyMap<string, CertificateResource>;
  // What changed since the previous snapshot of the same source; absent: all.
  readonly changes?: ViewChanges;
}

export function emptyView(region: string, source: ViewSourceKind = 'none'): EdgeView {
  return {
    version: 0,
    region,
    source,
    services: new Map(),
    trafficRoutes: new Map(),
    resiliencePolicies: new Map(),
    failoverPolicies: new Map(),
    regions: new Map(),
    instances: new Map(),
    remoteRegions: new Map(),
    trafficPermissions: new Map(),
    certificates: new Map(),
  };
}

// Where views come from. A source calls onView with every new snapshot; it
// keeps serving its last one when it loses its upstream.
export interface ViewSource {
  readonly kind: ViewSourceKind;
  start(onView: (view: EdgeView) => void): Promise<void>;
  stop(): Promise<void>;
  status(): Record<string, unknown>;
}
