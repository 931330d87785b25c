// The mutable state behind successive EdgeView snapshots. Both sources feed
// it: the static file as one full replacement, the discovery stream as a full
// view followed by deltas. snapshot() hands out a new EdgeView that shares
// every unchanged part with the previous one.
import type { ResourceDocument } from '../../lib/resources';
import type { EdgeView, LocalInstance, RemoteRegion, ViewSourceKind } from './edge-view';

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

  constructor(
    readonly region: string,
    private readonly source: ViewSourceKind,
  ) {}

  // Drops everything (a full view follows).
  clear(): void {
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
    if (instances.length === 0) this.instances.delete(service);
    else this.instances.set(service, instances);
  }

  setRemoteRegion(region: RemoteRegion): void {
    if (region.name === this.region) return;
    this.remoteRegions.set(region.name, region);
  }

  removeRemoteRegion(name: string): void {
    this.remoteRegions.delete(name);
  }

  private certificatesView(): ReadonlyMap<string, Extract<ResourceDocument, { kind: 'Certificate' }>> {
    return (this.certificatesCopy ??= new Map(this.certificates));
  }

  snapshot(): EdgeView {
    return {
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
