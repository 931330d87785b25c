// The view a proxy of this region needs, merged from the global state (the
// resources and the region view) and the local instance registry.
//
// Changes mark what they touch; within batchMs the marks become one update
// message, the same for every subscriber, so churn costs one build and one
// broadcast per batch rather than one per change per proxy.
//
// Remote regions go in two forms. 'update' carries, for each changed region,
// only the services whose counts changed (services_partial), for proxies
// that merge them (WatchRequest.partial_regions). 'legacy-update' carries
// changed regions whole (ten thousand services each at scale), for proxies
// that do not ask for partial regions: updates are folded and go at most once
// per LEGACY_INTERVAL_MS, so a lone change goes at once and churn costs those
// proxies one message a second.
import { EventEmitter } from 'node:events';
import type { RegionResource } from '../../lib/resources';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { RemoteRegion } from '../../proto/generated/meridian/discovery/v1/RemoteRegion';
import type { LocalInstance } from '../../proto/generated/meridian/discovery/v1/LocalInstance';
import type { Resource } from '../../proto/generated/meridian/resource/v1/Resource';
import { missingKey, type GlobalState, type HeldResource, type RegionChanges } from '../state/global-state';
import type { InstanceRegistry } from '../registry/instance-registry';
import { mergeViews } from './view-merge';

export const LEGACY_INTERVAL_MS = 1000;

// Instances reach proxies from the registry, not as stored resources.
const PROXY_KINDS = new Set(['Region', 'Service', 'TrafficRoute', 'ResiliencePolicy', 'FailoverPolicy', 'TrafficPermission']);

// How this zone reaches other regions when it runs tunnels; without one, a
// region is reachable while it is online and has an ingress.
export interface RegionReachability {
  peer(region: string): { up: boolean; rttMs: number } | undefined;
}

export declare interface DiscoveryView {
  on(event: 'update' | 'legacy-update', listener: (view: View) => void): this;
}

export class DiscoveryView extends EventEmitter {
  version = 0;
  // Certificate resources carry their private key: sent only when the
  // discovery port runs mTLS (the zone controller sets this).
  withCertificates = false;
  private readonly dirtyResources = new Set<string>();
  private readonly dirtyServices = new Set<string>();
  // Region -> services whose counts changed, or 'all'.
  private readonly dirtyRegions = new Map<string, Set<string> | 'all'>();
  // For 'legacy-update' subscribers: the updates not sent yet, the regions they owe
  // whole, and when the last one went.
  private legacyPending: View | undefined;
  private readonly legacyOwed = new Set<string>();
  private legacySentAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private legacyTimer: NodeJS.Timeout | undefined;

  private sends(kind: string): boolean {
    return PROXY_KINDS.has(kind) || (kind === 'Certificate' && this.withCertificates);
  }

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
        if (key.startsWith('Region/')) this.markRegion(key.slice('Region/'.length), undefined);
      }
      this.schedule();
    });
    state.on('regions', (names: string[], changes?: RegionChanges) => {
      for (const n of names) this.markRegion(n, changes?.get(n) ?? 'all');
      this.schedule();
    });
    registry.on('change', (c) => {
      this.dirtyServices.add(c.instance.service);
      this.schedule();
    });
  }

  // A Certificate held without its key (since a restart: keys are never on
  // disk) is not sent; a full view names it in keptResources so a proxy
  // keeps serving the copy it holds until the key is back.
  full(): View {
    const resources: Resource[] = [];
    const keptResources: string[] = [];
    for (const r of this.state.resources.values()) {
      if (!this.sends(r.kind)) continue;
      if (missingKey(r)) keptResources.push(`${r.kind}/${r.name}`);
      else resources.push(toWire(r));
    }
    const regionNames = new Set<string>([...this.state.regions.keys(), ...this.state.byKind('Region').map((r) => r.metadata.name)]);
    regionNames.delete(this.region);
    const services = new Set(this.registry.list().map((i) => i.service));
    return {
      version: this.version,
      full: true,
      region: this.region,
      resources,
      removedResources: [],
      keptResources,
      instances: this.registry.list().map(toLocal),
      instanceServices: [...services],
      regions: [...regionNames].sort().map((n) => this.remoteRegion(n)),
      removedRegions: [],
    };
  }

  // Reachability changed (tunnel peers, probes): every remote region's own fields.
  markAllRegions(): void {
    for (const n of this.state.regions.keys()) this.markRegion(n, undefined);
    for (const r of this.state.byKind('Region')) this.markRegion(r.metadata.name, undefined);
    this.schedule();
  }

  // `services`: those whose counts changed; undefined for none (only the
  // region's own fields); 'all' to send it whole.
  private markRegion(name: string, services: ReadonlySet<string> | 'all' | undefined): void {
    const marked = this.dirtyRegions.get(name);
    if (marked === 'all') return;
    if (services === 'all') return void this.dirtyRegions.set(name, 'all');
    const set = marked ?? new Set<string>();
    for (const s of services ?? []) set.add(s);
    this.dirtyRegions.set(name, set);
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
      if (held && this.sends(held.kind)) {
        if (!missingKey(held)) resources.push(toWire(held));
      }
      else if (!held) removedResources.push(key);
    }
    const instances: LocalInstance[] = [];
    for (const service of this.dirtyServices) for (const i of this.registry.ofService(service)) instances.push(toLocal(i));
    const regions: RemoteRegion[] = [];
    const removedRegions: string[] = [];
    for (const [name, services] of this.dirtyRegions) {
      if (name === this.region) continue;
      if (!this.exists(name)) removedRegions.push(name);
      else if (services === 'all') regions.push(this.remoteRegion(name));
      else regions.push(this.partialRegion(name, services));
      if (this.listenerCount('legacy-update')) this.legacyOwed.add(name);
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
    if (this.listenerCount('legacy-update')) this.flushLegacy({ ...update, regions: [] });
  }

  // The whole-region form ('legacy-update'): updates folded together and sent at most once per
  // LEGACY_INTERVAL_MS (the first after a quiet interval at once), each
  // changed region whole. Such proxies rebuild their view per message.
  private flushLegacy(update: View): void {
    this.legacyPending = this.legacyPending ? mergeViews(this.legacyPending, update) : update;
    const wait = this.legacySentAt + LEGACY_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.legacyTimer ??= setTimeout(() => this.sendLegacy(), wait);
      return;
    }
    this.sendLegacy();
  }

  private sendLegacy(): void {
    clearTimeout(this.legacyTimer);
    this.legacyTimer = undefined;
    const update = this.legacyPending;
    this.legacyPending = undefined;
    if (!update) return;
    for (const name of this.legacyOwed) if (this.exists(name) && name !== this.region) update.regions!.push(this.remoteRegion(name));
    this.legacyOwed.clear();
    update.version = this.version;
    const empty = !update.resources!.length && !update.removedResources!.length && !update.instanceServices!.length && !update.regions!.length && !update.removedRegions!.length;
    if (empty) return;
    this.legacySentAt = Date.now();
    this.emit('legacy-update', update);
  }

  private exists(name: string): boolean {
    return this.state.regions.has(name) || !!this.state.get('Region', name);
  }

  // The region's own fields whole; of its services only those named.
  private partialRegion(name: string, services: ReadonlySet<string>): RemoteRegion {
    const region = this.remoteRegion(name, false);
    region.servicesPartial = true;
    for (const service of services) {
      const s = this.state.regionService(name, service);
      if (s) region.services!.push({ service: s.service, healthy: s.healthy, total: s.total, load: s.load });
      else region.removedServices!.push(service);
    }
    return region;
  }

  private remoteRegion(name: string, withServices = true): RemoteRegion {
    const status = this.state.regions.get(name);
    const resource = this.state.get<RegionResource>('Region', name);
    const region: RemoteRegion = {
      name,
      latitude: resource?.spec.location.latitude ?? 0,
      longitude: resource?.spec.location.longitude ?? 0,
      ingressAddress: status?.ingressAddress ?? '',
      reachable: !!status?.online && !!status.ingressAddress,
      rttMs: 0,
      // The held entries themselves (never changed in place: the state replaces them), in an array of this view's own.
      services: withServices ? [...(status?.services ?? [])] : [],
      relayVia: '',
      relayIngressAddress: '',
      servicesPartial: false,
      removedServices: [],
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
    clearTimeout(this.legacyTimer);
  }
}

function toWire(r: HeldResource): Resource {
  return { kind: r.kind, name: r.name, document: r.text ?? Buffer.from(JSON.stringify(r.document)), modRevision: r.modRevision };
}

function toLocal(i: { id: string; service: string; address: string; port: number; weight: number; labels: Readonly<Record<string, string>>; ports?: Readonly<Record<string, number>>; healthy: boolean }): LocalInstance {
  return { id: i.id, service: i.service, address: i.address, port: i.port, weight: i.weight, labels: { ...i.labels }, ports: { ...i.ports }, healthy: i.healthy };
}
