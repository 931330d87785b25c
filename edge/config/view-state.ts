// The mutable state behind successive EdgeView snapshots. Both sources feed
// it: the static file as one full replacement, the discovery stream as a full
// view followed by deltas. snapshot() hands out a new EdgeView that shares
// every unchanged part with the previous one: a resource map is copied only
// when it changed, and the instances and the remote regions' service tables
// are never copied (edge-view.ts: they are updated in place), so a
// one-service message costs what it changed, not the size of the view.
import type { ResourceDocument } from '../../lib/resources';
import type { EdgeView, LocalInstance, RemoteRegion, RemoteServiceState, RemoteServices, ViewChanges, ViewSourceKind } from './edge-view';
import { RegionServices, ServiceIds } from './region-services';

// Snapshot ids, unique across every ViewState of the process.
let nextSnapshotId = 1;

// Kinds whose change may alter any backend's routing or policy.
const ROUTING_KINDS = new Set(['Service', 'TrafficRoute', 'ResiliencePolicy', 'FailoverPolicy', 'Region']);

function sameRegionFields(a: RemoteRegion, b: RemoteRegion): boolean {
  return (
    a.latitude === b.latitude &&
    a.longitude === b.longitude &&
    a.ingressAddress === b.ingressAddress &&
    a.reachable === b.reachable &&
    a.rttMs === b.rttMs &&
    a.relayVia === b.relayVia &&
    a.relayIngressAddress === b.relayIngressAddress
  );
}

function sameServiceState(a: RemoteServiceState | undefined, b: RemoteServiceState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.healthy === b.healthy && a.total === b.total && a.load === b.load;
}

// A resource map and the copy last handed out, made again only after a change.
class SnapshotMap<V> {
  private readonly map = new Map<string, V>();
  private copy: Map<string, V> | undefined;

  set(name: string, value: V): void {
    this.map.set(name, value);
    this.copy = undefined;
  }

  delete(name: string): void {
    if (this.map.delete(name)) this.copy = undefined;
  }

  get(name: string): V | undefined {
    return this.map.get(name);
  }

  snapshot(): ReadonlyMap<string, V> {
    return (this.copy ??= new Map(this.map));
  }
}

type Doc<K extends ResourceDocument['kind']> = Extract<ResourceDocument, { kind: K }>;

// The kinds the data plane uses; others (Instance as a resource) are
// accepted and ignored here.
type ViewKind = 'Service' | 'TrafficRoute' | 'ResiliencePolicy' | 'FailoverPolicy' | 'Region' | 'TrafficPermission' | 'Certificate';

export class ViewState {
  private version = 0;
  private services = new SnapshotMap<Doc<'Service'>>();
  private trafficRoutes = new SnapshotMap<Doc<'TrafficRoute'>>();
  private resiliencePolicies = new SnapshotMap<Doc<'ResiliencePolicy'>>();
  private failoverPolicies = new SnapshotMap<Doc<'FailoverPolicy'>>();
  private regions = new SnapshotMap<Doc<'Region'>>();
  private trafficPermissions = new SnapshotMap<Doc<'TrafficPermission'>>();
  private certificates = new SnapshotMap<Doc<'Certificate'>>();
  private instances = new Map<string, readonly LocalInstance[]>();
  private remoteRegions = new Map<string, RemoteRegion>();
  // Each remote region's services (its RemoteRegion.services), by region.
  private tables = new Map<string, RegionServices>();
  private serviceIds = new ServiceIds();
  // What changed since the last snapshot (a new state has changed "all").
  private changedAll = true;
  private changedServices = new Set<string>();
  private changedRegions = new Set<string>();
  private lastSnapshotId = 0;

  constructor(
    readonly region: string,
    private readonly source: ViewSourceKind,
  ) {}

  // The held Certificate of that name (kept across a full view that says so).
  certificate(name: string): Doc<'Certificate'> | undefined {
    return this.certificates.get(name);
  }

  // Drops everything (a full view follows).
  clear(): void {
    this.changedAll = true;
    this.services = new SnapshotMap();
    this.trafficRoutes = new SnapshotMap();
    this.resiliencePolicies = new SnapshotMap();
    this.failoverPolicies = new SnapshotMap();
    this.regions = new SnapshotMap();
    this.trafficPermissions = new SnapshotMap();
    this.certificates = new SnapshotMap();
    this.instances = new Map();
    this.remoteRegions = new Map();
    this.tables = new Map();
    this.serviceIds = new ServiceIds();
  }

  setVersion(version: number): void {
    this.version = version;
  }

  upsert(doc: ResourceDocument): void {
    if (ROUTING_KINDS.has(doc.kind)) this.changedAll = true;
    switch (doc.kind) {
      case 'Service':
        this.services.set(doc.metadata.name, doc);
        break;
      case 'TrafficRoute':
        this.trafficRoutes.set(doc.metadata.name, doc);
        break;
      case 'ResiliencePolicy':
        this.resiliencePolicies.set(doc.metadata.name, doc);
        break;
      case 'FailoverPolicy':
        this.failoverPolicies.set(doc.metadata.name, doc);
        break;
      case 'Region':
        this.regions.set(doc.metadata.name, doc);
        break;
      case 'TrafficPermission':
        this.trafficPermissions.set(doc.metadata.name, doc);
        break;
      case 'Certificate':
        this.certificates.set(doc.metadata.name, doc);
        break;
      default:
        break;
    }
  }

  // key is "Kind/name".
  remove(key: string): void {
    const slash = key.indexOf('/');
    if (slash < 0) return;
    const kind = key.slice(0, slash) as ViewKind;
    const name = key.slice(slash + 1);
    if (ROUTING_KINDS.has(kind)) this.changedAll = true;
    switch (kind) {
      case 'Service':
        this.services.delete(name);
        break;
      case 'TrafficRoute':
        this.trafficRoutes.delete(name);
        break;
      case 'ResiliencePolicy':
        this.resiliencePolicies.delete(name);
        break;
      case 'FailoverPolicy':
        this.failoverPolicies.delete(name);
        break;
      case 'Region':
        this.regions.delete(name);
        break;
      case 'TrafficPermission':
        this.trafficPermissions.delete(name);
        break;
      case 'Certificate':
        this.certificates.delete(name);
        break;
      default:
        break;
    }
  }

  // Replaces the local instances of one service (an empty list removes them).
  setInstances(service: string, instances: readonly LocalInstance[]): void {
    this.changedServices.add(service);
    if (instances.length === 0) this.instances.delete(service);
    else this.instances.set(service, instances);
  }

  // Replaces a remote region whole. Its services whose state differs are
  // marked changed; every service of the old and new region when the
  // region's own fields (reachability, relay, RTT, address, location) moved.
  setRemoteRegion(region: RemoteRegion): void {
    if (region.name === this.region) return;
    const held = this.tables.get(region.name);
    const gone: string[] = [];
    if (held !== undefined) for (const s of held.keys()) if (!region.services.has(s)) gone.push(s);
    this.applyRegion(region, region.services, gone);
  }

  // Merges a region whose `services` holds only the services that changed
  // (services_partial) and `removed` those gone; its other fields are whole.
  mergeRemoteRegion(region: RemoteRegion, removed: readonly string[]): void {
    if (region.name === this.region) return;
    this.applyRegion(region, region.services, removed);
  }

  removeRemoteRegion(name: string): void {
    const table = this.tables.get(name);
    if (table === undefined) return;
    this.remoteRegions.delete(name);
    this.tables.delete(name);
    this.changedRegions.add(name);
    if (!this.changedAll) for (const s of table.keys()) this.changedServices.add(s);
  }

  // Writes `changed` and `removed` into the region's table (in place) and
  // marks what moved: the services whose state differs, or every service of
  // the region when its own fields moved.
  private applyRegion(region: RemoteRegion, changed: RemoteServices, removed: Iterable<string>): void {
    const old = this.remoteRegions.get(region.name);
    let table = this.tables.get(region.name);
    if (table === undefined) this.tables.set(region.name, (table = new RegionServices(this.serviceIds)));
    const mark = !this.changedAll;
    const fieldsMoved = old === undefined || !sameRegionFields(old, region);
    if (fieldsMoved && mark) for (const s of table.keys()) this.changedServices.add(s);
    let any = false;
    for (const s of removed) {
      if (!table.delete(s)) continue;
      any = true;
      if (mark) this.changedServices.add(s);
    }
    // Entries first: `changed` may be this very table (a region handed back).
    for (const [s, state] of [...changed.entries()]) {
      if (sameServiceState(table.get(s), state)) continue;
      table.set(s, state);
      any = true;
      if (mark) this.changedServices.add(s);
    }
    if (fieldsMoved && mark) for (const s of table.keys()) this.changedServices.add(s);
    if (mark && (any || fieldsMoved)) this.changedRegions.add(region.name);
    this.remoteRegions.set(region.name, { ...region, services: table });
  }

  // What changed since the previous snapshot; starts a new record.
  private takeChanges(): ViewChanges {
    const id = nextSnapshotId++;
    const changes: ViewChanges = {
      all: this.changedAll,
      services: this.changedAll ? new Set() : this.changedServices,
      regions: this.changedAll ? new Set() : this.changedRegions,
      id,
      baseId: this.lastSnapshotId,
    };
    this.lastSnapshotId = id;
    this.changedAll = false;
    this.changedServices = new Set();
    this.changedRegions = new Set();
    return changes;
  }

  snapshot(): EdgeView {
    return {
      changes: this.takeChanges(),
      version: this.version,
      region: this.region,
      source: this.source,
      services: this.services.snapshot(),
      trafficRoutes: this.trafficRoutes.snapshot(),
      resiliencePolicies: this.resiliencePolicies.snapshot(),
      failoverPolicies: this.failoverPolicies.snapshot(),
      regions: this.regions.snapshot(),
      instances: this.instances,
      remoteRegions: new Map(this.remoteRegions),
      trafficPermissions: this.trafficPermissions.snapshot(),
      certificates: this.certificates.snapshot(),
    };
  }
}
