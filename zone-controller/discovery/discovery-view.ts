// The view a proxy of this region needs, merged from the global state (the
// resources and the region view) and the local instance registry.
//
// Changes mark what they touch; within batchMs the marks become one update
// message, the same for every subscriber, so churn costs one build and one
// broadcast per batch rather than one per change per proxy.
import { EventEmitter } from 'node:events';
import type { RegionResource } from '../../lib/resources';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { RemoteRegion } from '../../proto/generated/meridian/discovery/v1/RemoteRegion';
import type { LocalInstance } from '../../proto/generated/meridian/discovery/v1/LocalInstance';
import type { Resource } from '../../proto/generated/meridian/resource/v1/Resource';
import type { GlobalState } from '../state/global-state';
import type { InstanceRegistry } from '../registry/instance-registry';

// Instances reach proxies from the registry, not as stored resources.
const PROXY_KINDS = new Set(['Region', 'Service', 'TrafficRoute', 'ResiliencePolicy', 'FailoverPolicy', 'TrafficPermission']);

// How this zone reaches other regions when it runs tunnels; without one, a
// region is reachable while it is online and has an ingress.
export interface RegionReachability {
  peer(region: string): { up: boolean; rttMs: number } | undefined;
}

export declare interface DiscoveryView {
  on(event: 'update', listener: (view: View) => void): this;
}

export class DiscoveryView extends EventEmitter {
  version = 0;
  private readonly dirtyResources = new Set<string>();
  private readonly dirtyServices = new Set<string>();
  private readonly dirtyRegions = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly region: string,
    private readonly state: GlobalState,
    private readonly registry: InstanceRegistry,
    private readonly batchMs = 10,
    private readonly reachability?: RegionReachability,
  ) {
    super();
    this.setMaxListeners(0);
    state.on('resources', (keys) => {
      for (const key of keys) {
        this.dirtyResources.add(key);
        // A Region's location is part of the remote region entry.
        if (key.startsWith('Region/')) this.dirtyRegions.add(key.slice('Region/'.length));
      }
      this.schedule();
    });
    state.on('regions', (names) => {
      for (const n of names) this.dirtyRegions.add(n);
      this.schedule();
    });
    registry.on('change', (c) => {
      this.dirtyServices.add(c.instance.service);
      this.schedule();
    });
  }

  full(): View {
    const regionNames = new Set<string>([...this.state.regions.keys(), ...this.state.byKind('Region').map((r) => r.metadata.name)]);
    regionNames.delete(this.region);
    const services = new Set(this.registry.list().map((i) => i.service));
    return {
      version: this.version,
      full: true,
      region: this.region,
      resources: [...this.state.resources.values()].filter((r) => PROXY_KINDS.has(r.kind)).map(toWire),
      removedResources: [],
      instances: this.registry.list().map(toLocal),
      instanceServices: [...services],
      regions: [...regionNames].sort().map((n) => this.remoteRegion(n)),
      removedRegions: [],
    };
  }

  // Reachability changed (tunnel peers, probes): every remote region is rebuilt.
  markAllRegions(): void {
    for (const n of this.state.regions.keys()) this.dirtyRegions.add(n);
    for (const r of this.state.byKind('Region')) this.dirtyRegions.add(r.metadata.name);
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  flush(): void {
    this.timer = undefined;
    this.version++;
    const resources: Resource[] = [];
    const removedResources: string[] = [];
    for (const key of this.dirtyResources) {
      const held = this.state.resources.get(key);
      if (held && PROXY_KINDS.has(held.kind)) resources.push(toWire(held));
      else if (!held) removedResources.push(key);
    }
    const instances = this.registry.list().filter((i) => this.dirtyServices.has(i.service)).map(toLocal);
    const regions: RemoteRegion[] = [];
    const removedRegions: string[] = [];
    for (const name of this.dirtyRegions) {
      if (name === this.region) continue;
      if (this.state.regions.has(name) || this.state.get('Region', name)) regions.push(this.remoteRegion(name));
      else removedRegions.push(name);
    }
    const update: View = {
      version: this.version,
      full: false,
      region: this.region,
      resources,
      removedResources,
      instances,
      instanceServices: [...this.dirtyServices],
      regions,
      removedRegions,
    };
    this.dirtyResources.clear();
    this.dirtyServices.clear();
    this.dirtyRegions.clear();
    this.emit('update', update);
  }

  private remoteRegion(name: string): RemoteRegion {
    const status = this.state.regions.get(name);
    const resource = this.state.get<RegionResource>('Region', name);
    const region: RemoteRegion = {
      name,
      latitude: resource?.spec.location.latitude ?? 0,
      longitude: resource?.spec.location.longitude ?? 0,
      ingressAddress: status?.ingressAddress ?? '',
      reachable: !!status?.online && !!status.ingressAddress,
      rttMs: 0,
      services: (status?.services ?? []).map((s) => ({ service: s.service, healthy: s.healthy, total: s.total, load: s.load })),
      relayVia: '',
      relayIngressAddress: '',
    };
    if (!this.reachability || !region.reachable) return region;
    const direct = this.reachability.peer(name);
    if (direct?.up) {
      region.rttMs = Math.round(direct.rttMs);
      return region;
    }
    // The direct tunnel is down: relay through a region both sides still reach.
    const relay = this.relayFor(name);
    if (relay) Object.assign(region, relay);
    else region.reachable = false;
    return region;
  }

  private relayFor(target: string): Pick<RemoteRegion, 'relayVia' | 'relayIngressAddress' | 'rttMs'> | undefined {
    let best: Pick<RemoteRegion, 'relayVia' | 'relayIngressAddress' | 'rttMs'> | undefined;
    for (const via of this.state.regions.values()) {
      if (via.region === this.region || via.region === target || !via.online || !via.ingressAddress) continue;
      const toVia = this.reachability!.peer(via.region);
      const onward = via.peers.find((p) => p.region === target && p.up);
      if (!toVia?.up || !onward) continue;
      const rttMs = Math.round(toVia.rttMs + onward.rttMs);
      if (!best || rttMs < best.rttMs!) best = { relayVia: via.region, relayIngressAddress: via.ingressAddress, rttMs };
    }
    return best;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function toWire(r: { kind: string; name: string; document: unknown; modRevision: number }): Resource {
  return { kind: r.kind, name: r.name, document: Buffer.from(JSON.stringify(r.document)), modRevision: r.modRevision };
}

function toLocal(i: { id: string; service: string; address: string; port: number; weight: number; labels: Readonly<Record<string, string>>; healthy: boolean }): LocalInstance {
  return { id: i.id, service: i.service, address: i.address, port: i.port, weight: i.weight, labels: { ...i.labels }, healthy: i.healthy };
}
