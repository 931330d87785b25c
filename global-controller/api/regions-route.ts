// GET /v1/regions: the global view of the zones, merged from what every zone
// reports, with the Region resources that have no zone yet listed offline.
import type * as http from 'node:http';
import type { ResourceStore } from '../store/resource-store';
import type { ZoneStatusStore } from '../zones/zone-status-store';
import { isOnline, type ZoneStatus } from '../zones/zone-status';
import { sendJson } from './http-response';

export function regionStatusFields(s: ZoneStatus | undefined, now = Date.now()): Record<string, unknown> {
  if (!s) return { online: false, lastHeartbeat: null, ackedVersion: 0, services: [] };
  return {
    online: isOnline(s, now),
    lastHeartbeat: s.lastHeartbeatMs ? new Date(s.lastHeartbeatMs).toISOString() : null,
    ackedVersion: s.ackedVersion,
    replica: s.replica,
    zoneId: s.zoneId,
    ingressAddress: s.ingressAddress,
    dnsAddress: s.dnsAddress,
    httpAddress: s.httpAddress,
    tunnel: s.tunnel,
    services: s.services.map(({ service, healthy, total }) => ({ service, healthy, total })),
    peers: s.peers,
    edges: s.edges,
    lastNack: s.lastNack ? { ...s.lastNack, at: new Date(s.lastNack.atMs).toISOString() } : null,
  };
}

export async function listRegions(res: http.ServerResponse, deps: { store: ResourceStore; zones: ZoneStatusStore }): Promise<void> {
  const now = Date.now();
  const names = new Set(deps.zones.all().map((s) => s.region));
  // The resource list is best effort: the view must answer while etcd is away.
  try {
    for (const r of await deps.store.list('Region')) names.add(r.name);
  } catch {
    // zones only
  }
  const regions = [...names].sort().map((region) => ({ region, ...regionStatusFields(deps.zones.get(region), now) }));
  sendJson(res, 200, { revision: deps.store.revision, regions });
}
