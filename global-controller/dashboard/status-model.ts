// Builds MeshStatus (its shape: mesh-status.d.ts), the one JSON picture of the
// mesh that GET /v1/status, the dashboard's WebSocket feed and `meridian
// status` all show, from what zones report (ZoneStatusStore) and the Region and
// Service resources; ages and online flags are computed here, at `now`, so
// every reader sees the same.
import type { ResourceStore, StoredResource } from '../store/resource-store';
import type { ZoneStatusStore } from '../zones/zone-status-store';
import { isOnline, type ZoneStatus } from '../zones/zone-status';
import type { MeshStatus, RegionView, ServiceView, TunnelView } from './mesh-status';

export interface MeshStatusInputs {
  zones: ZoneStatus[];
  regionResources: StoredResource[];
  serviceNames: string[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function meshStatus(inputs: MeshStatusInputs, now = Date.now()): MeshStatus {
  const zones = new Map(inputs.zones.map((z) => [z.region, z]));
  const locations = new Map(inputs.regionResources.map((r) => [r.name, locationOf(r)]));
  const names = [...new Set([...zones.keys(), ...locations.keys()])].sort(byName);

  const regions = names.map((name) => regionView(name, zones.get(name), locations.get(name), now));

  const tunnels: TunnelView[] = [];
  for (const z of inputs.zones) {
    const online = isOnline(z, now);
    for (const p of z.peers) {
      tunnels.push({
        from: z.region,
        to: p.region,
        // A zone we no longer hear from cannot vouch for its tunnels.
        up: online && p.up,
        handshakeAgeMs: p.lastHandshakeAtMs > 0 ? Math.max(0, now - p.lastHandshakeAtMs) : null,
        rttMs: p.rttMs,
      });
    }
  }
  tunnels.sort((a, b) => byName(a.from, b.from) || byName(a.to, b.to));

  const services = new Map<string, ServiceView>();
  for (const service of inputs.serviceNames) services.set(service, { service, regions: {} });
  for (const r of regions) {
    for (const s of r.services) {
      let view = services.get(s.service);
      if (!view) services.set(s.service, (view = { service: s.service, regions: {} }));
      view.regions[r.name] = { healthy: s.healthy, total: s.total };
    }
  }

  return {
    generatedAt: new Date(now).toISOString(),
    regions,
    tunnels,
    services: [...services.values()].sort((a, b) => byName(a.service, b.service)),
  };
}

function regionView(name: string, z: ZoneStatus | undefined, location: { latitude: number; longitude: number } | null | undefined, now: number): RegionView {
  return {
    name,
    latitude: location?.latitude ?? null,
    longitude: location?.longitude ?? null,
    online: z ? isOnline(z, now) : false,
    lastHeartbeat: z?.lastHeartbeatMs ? new Date(z.lastHeartbeatMs).toISOString() : null,
    ackedVersion: z?.ackedVersion ?? 0,
    services: (z?.services ?? []).map(({ service, healthy, total }) => ({ service, healthy, total })),
    // Ingresses report alongside the edges but never announce anycast: they
    // are not "withdrawn". Zones older than the mode field report edges only.
    edges: (z?.edges ?? []).filter((e) => e.mode !== 'ingress').map(({ name: edge, announcing, healthy }) => ({ name: edge, announcing, healthy })),
    traffic: z?.traffic ? { requestRate: z.traffic.requestRate, errorRate: z.traffic.errorRate, p99Ms: z.traffic.p99Ms } : null,
  };
}

function locationOf(r: StoredResource): { latitude: number; longitude: number } | null {
  const loc = (r.document.spec as { location?: { latitude?: unknown; longitude?: unknown } } | undefined)?.location;
  return typeof loc?.latitude === 'number' && typeof loc.longitude === 'number' ? { latitude: loc.latitude, longitude: loc.longitude } : null;
}

// The resources are best effort: the picture must answer while etcd is away,
// with what the zones report and without locations.
export async function buildMeshStatus(deps: { store: ResourceStore; zones: ZoneStatusStore }, now?: number): Promise<MeshStatus> {
  let regionResources: StoredResource[] = [];
  let serviceNames: string[] = [];
  try {
    const [regions, services] = await Promise.all([deps.store.list('Region'), deps.store.list('Service')]);
    regionResources = regions;
    serviceNames = services.map((s) => s.name);
  } catch {
    // zones only
  }
  return meshStatus({ zones: deps.zones.all(), regionResources, serviceNames }, now ?? Date.now());
}
