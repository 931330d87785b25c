// When an edge may announce the anycast address: it can take a request and
// do something useful with it. That is: its listener is up and it is not
// draining, its view is fresh (discovery connected, or its last message
// recent; a static config is always fresh), and some region it can reach,
// this one included, has a healthy instance of one of its services. Anything
// else and routers should send the traffic to another edge.
import type { EdgeView } from '../config/edge-view';
import { remotePath } from '../relay/remote-path';

export type Freshness =
  | { kind: 'static' }
  | { kind: 'discovery'; connected: boolean; haveFullView: boolean; lastMessageAtMs: number };

export interface AnnounceInputs {
  listenerUp: boolean;
  draining: boolean;
  freshness: Freshness;
  view: EdgeView;
  now: number;
  staleAfterMs: number;
}

export interface AnnounceVerdict {
  healthy: boolean;
  // Why, in a few words (logged on change, shown on /healthz).
  reason: string;
}

export function evaluateAnnounce(i: AnnounceInputs): AnnounceVerdict {
  if (i.draining) return { healthy: false, reason: 'draining' };
  if (!i.listenerUp) return { healthy: false, reason: 'listener down' };
  const f = i.freshness;
  if (f.kind === 'discovery') {
    if (!f.haveFullView) return { healthy: false, reason: 'no view from the zone controller yet' };
    const silentMs = i.now - f.lastMessageAtMs;
    if (!f.connected && silentMs > i.staleAfterMs) {
      return { healthy: false, reason: `discovery stale: disconnected, last update ${Math.round(silentMs / 1000)} s ago` };
    }
  }
  const serving = servingRegion(i.view);
  if (serving === undefined) return { healthy: false, reason: 'no reachable region has a healthy instance of any service' };
  return { healthy: true, reason: `ok (${serving.service} in ${serving.region})` };
}

// The first service with a healthy instance in this region, else in a
// reachable (or relayed) remote region.
export function servingRegion(view: EdgeView): { service: string; region: string } | undefined {
  for (const service of view.services.keys()) {
    const local = view.instances.get(service);
    if (local !== undefined && local.some((x) => x.healthy)) return { service, region: view.region };
  }
  for (const r of view.remoteRegions.values()) {
    if (!r.reachable || remotePath(r) === undefined) continue;
    for (const [service, s] of r.services) {
      if (s.healthy > 0 && view.services.has(service)) return { service, region: r.name };
    }
  }
  return undefined;
}
