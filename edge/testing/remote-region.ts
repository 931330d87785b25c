// A remote region as a discovery view names it, for tests that wire gateways
// to each other's ingress on loopback.
import type { RemoteRegion } from '../config/edge-view';

export function remoteRegion(name: string, port: number, services: Record<string, number>, extra: Partial<RemoteRegion> = {}): RemoteRegion {
  return {
    name,
    latitude: 0,
    longitude: 0,
    ingressAddress: `127.0.0.1:${port}`,
    reachable: true,
    rttMs: 5,
    services: new Map(Object.entries(services).map(([s, healthy]) => [s, { healthy, total: healthy, load: 0 }])),
    ...extra,
  };
}
