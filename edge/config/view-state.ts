// The mutable state behind successive EdgeView snapshots. Both sources feed
// it: the static file as one full replacement, the discovery stream as a full
// view followed by deltas. snapshot() hands out a new EdgeView that shares
// every unchanged part with the previous one.
import type { ResourceDocument } from '../../lib/resources';
import type { EdgeView, LocalInstance, RemoteRegion, RemoteServiceState, ViewChanges, ViewSourceKind } from './edge-view';

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

// The kinds the data plane uses; others (Instance as a resource) are
// accepted and ignored here.
type ViewKind = 'Service' | 'TrafficRoute' | 'ResiliencePolicy' | 'FailoverPolicy' | 'Region' | 'TrafficPermission' | 'Certificate';

export class ViewState {
  private version = 0;
  private services = new Map<string, Extract<ResourceDocument, { kind: 'Service' }>>();
  private trafficRoutes = new Map<string, Extract<ResourceDocument, { kind: 'TrafficRoute' }>>();
  private resiliencePolicies = new Map<string, Extract<ResourceDocument, { kind: 'ResiliencePolicy' }>>();
  private failoverPolicies = new Map<string, Extract<ResourceDocument, { kind: 'FailoverPolicy' }>>();
  private regions = new Map<string, Extract<ResourceDocument, { kind: 'Region' }>>();
  private trafficPermissions = new Map<string, Extract<ResourceDocument, { kind: 'TrafficPermission' }>>();
  private certificates = new Map<string, Extract<ResourceDocument, { kind: 'Certificate' }>>();
  // The last snapshot's copy, kept until a certificate changes.
  private certificatesCopy: Map<string, Extract<ResourceDocument, { kind: 'Certificate' }>> | undefined;
  private instances = new Map<string, readonly LocalInstance[]>();
  private remoteRegions = new Map<string, RemoteRegion>();
  // What changed since the last snapshot (a new state has changed "all").
  private changedAll = true;
  private changedServices = new Set<string>();
  private changedRegions = new Set<string>();
  private lastSnapshotId = 0;

  constructor(
    readonly region: string,
    private readonly source: ViewSourceKind,
  ) {}

  // Drops everything (a full view follows).
  clear(): void {
    this.changedAll = true;
    this.services = new Map();
    this.trafficRoutes = new Map();
    this.resiliencePolicies = new Map();
    this.failoverPolicies = new Map();
    this.regions = new Map();
    this.trafficPermissions = new Map();
    this.certificates = new Map();
    this.certificatesCopy = undefined;
    this.instances = new Map();
    this.remoteRegions = new Map();
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
        this.certificatesCopy = undefined;
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
        if (this.certificates.delete(name)) this.certificatesCopy = undefined;
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
    const old = this.remoteRegions.get(region.name);
    this.remoteRegions.set(region.name, region);
    this.markRegion(old, region, undefined);
  }

  // Merges a region whose `services` holds only the services that changed
  // (services_partial) and `removed` those gone; its other fields are whole.
  mergeRemoteRegion(region: RemoteRegion, removed: readonly string[]): void {
    if (region.name === this.region) return;
    const old = this.remoteRegions.get(region.name);
    const services = new Map(old?.services ?? []);
    for (const name of removed) services.delete(name);
    for (const [name, s] of region.services) services.set(name, s);
    const merged: RemoteRegion = { ...region, services };
    this.remoteRegions.set(region.name, merged);
    const touched = new Set<string>(removed);
    for (const name of region.services.keys()) touched.add(name);
    this.markRegion(old, merged, touched);
  }

  removeRemoteRegion(name: string): void {
    const old = this.remoteRegions.get(name);
    if (old === undefined) return;
    this.remoteRegions.delete(name);
    this.changedRegions.add(name);
    for (const s of old.services.keys()) this.changedServices.add(s);
  }

  // touched: the services a partial update named (else every service of
  // either side is compared).
  private markRegion(old: RemoteRegion | undefined, next: RemoteRegion, touched: ReadonlySet<string> | undefined): void {
    if (this.changedAll) return;
    if (old === undefined || !sameRegionFields(old, next)) {
      this.changedRegions.add(next.name);
      if (old) for (const s of old.services.keys()) this.changedServices.add(s);
      for (const s of next.services.keys()) this.changedServices.add(s);
      return;
    }
    let any = false;
    const consider = (s: string) => {
      if (!sameServiceState(old.services.get(s), next.services.get(s))) {
        this.changedServices.add(s);
        any = true;
      }
    };
    if (touched) for (const s of touched) consider(s);
    else {
      for (const s of next.services.keys()) consider(s);
      for (const s of old.services.keys()) if (!next.services.has(s)) consider(s);
    }
    if (any) this.changedRegions.add(next.name);
  }

  private certificatesView(): ReadonlyMap<string, Extract<ResourceDocument, { kind: 'Certificate' }>> {
    return (this.certificatesCopy ??= new Map(this.certificates));
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
      services: new Map(this.services),
      trafficRoutes: new Map(this.trafficRoutes),
      resiliencePolicies: new Map(this.resiliencePolicies),
      failoverPolicies: new Map(this.failoverPolicies),
      regions: new Map(this.regions),
      instances: new Map(this.instances),
      remoteRegions: new Map(this.remoteRegions),
      trafficPermissions: new Map(this.trafficPermissions),
      certificates: this.certificatesView(),
    };
  }
}
