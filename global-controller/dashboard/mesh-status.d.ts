// MeshStatus: the one JSON picture of the mesh that GET /v1/status, the
// dashboard's WebSocket feed and `meridian status -o json` give; built by
// status-model.ts. A declaration file that imports nothing, so that the
// dashboard's browser script (browser/app.ts, compiled with DOM types and
// without Node's) type-checks against the same shape without compiling any
// Node code: tsc emits nothing for it in either build.

export interface HealthCount {
  healthy: number;
  total: number;
}

// Reported by the region's edges. requestRate in requests per second,
// errorRate as the fraction of requests that failed (0..1), p99Ms the 99th
// percentile latency in milliseconds.
export interface TrafficSummary {
  requestRate: number;
  errorRate: number;
  p99Ms: number;
}

export interface RegionView {
  name: string;
  // null when the Region resource is unknown (not applied, or etcd away).
  latitude: number | null;
  longitude: number | null;
  online: boolean;
  lastHeartbeat: string | null;
  ackedVersion: number;
  services: ({ service: string } & HealthCount)[];
  edges: { name: string; announcing: boolean; healthy: boolean }[];
  traffic: TrafficSummary | null;
}

// One direction of a region pair, as `from` reports its WireGuard peer `to`.
export interface TunnelView {
  from: string;
  to: string;
  up: boolean;
  // null when no handshake was ever seen.
  handshakeAgeMs: number | null;
  rttMs: number;
}

export interface ServiceView {
  service: string;
  // Only the regions whose zone reports instances of the service.
  regions: Record<string, HealthCount>;
}

export interface MeshStatus {
  generatedAt: string;
  regions: RegionView[];
  tunnels: TunnelView[];
  services: ServiceView[];
}
