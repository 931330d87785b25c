// What the global controller knows of one zone: built from the zone's
// reports and heartbeats, kept in etcd so every replica serves the same view.
// The services part is kept per service (zone-status-store.ts): a report
// changes a few services, not the whole list.
import type { ZoneReport__Output } from '../../proto/generated/meridian/federation/v1/ZoneReport';

export interface ServiceHealthSummary {
  service: string;
  healthy: number;
  total: number;
  load: number;
}

export interface ZoneStatus {
  region: string;
  zoneId: string;
  replica: string;
  // As last written; readers use isOnline(), which also ages heartbeats.
  online: boolean;
  lastHeartbeatMs: number;
  heartbeatIntervalMs: number;
  connectedAtMs: number;
  ackedVersion: number;
  lastNack: { version: number; reason: string; atMs: number } | null;
  ingressAddress: string;
  dnsAddress: string;
  httpAddress: string;
  tunnel: { publicKey: string; endpoint: string; address: string } | null;
  services: ServiceHealthSummary[];
  peers: { region: string; lastHandshakeAtMs: number; up: boolean; rttMs: number }[];
  edges: { name: string; mode?: string; announcing: boolean; healthy: boolean; requestRate?: number; errorRate?: number; p99Ms?: number }[];
  traffic?: { requestRate: number; errorRate: number; p99Ms: number };
}

// A zone silent for this many heartbeat intervals is offline.
export const MISSED_HEARTBEATS_OFFLINE = 3;

export function isOnline(s: Pick<ZoneStatus, 'online' | 'lastHeartbeatMs' | 'heartbeatIntervalMs'>, now = Date.now()): boolean {
  return s.online && now - s.lastHeartbeatMs <= MISSED_HEARTBEATS_OFFLINE * s.heartbeatIntervalMs;
}

// The services of a report from a zone that sends its instances one by one
// (zones that predate ZoneReport.services).
export function summarizeServices(report: ZoneReport__Output): ServiceHealthSummary[] {
  const by = new Map<string, ServiceHealthSummary>();
  for (const inst of report.instances) {
    let s = by.get(inst.service);
    if (!s) by.set(inst.service, (s = { service: inst.service, healthy: 0, total: 0, load: 0 }));
    s.total++;
    if (inst.healthy) s.healthy++;
  }
  return [...by.values()].sort((a, b) => a.service.localeCompare(b.service));
}

export type ReportFields = Pick<ZoneStatus, 'ingressAddress' | 'dnsAddress' | 'httpAddress' | 'tunnel' | 'peers' | 'edges' | 'traffic'>;

// Everything a report says about the zone besides its services.
export function reportFields(report: ZoneReport__Output): ReportFields {
  return {
    ingressAddress: report.ingressAddress,
    dnsAddress: report.dnsAddress,
    httpAddress: report.httpAddress,
    tunnel: report.tunnel && report.tunnel.publicKey ? { ...report.tunnel } : null,
    peers: report.peers.map((p) => ({ region: p.region, lastHandshakeAtMs: p.lastHandshakeAtMs, up: p.up, rttMs: p.rttMs })),
    edges: report.edges.map((e) => ({
      name: e.name,
      mode: e.mode,
      announcing: e.announcing,
      healthy: e.healthy,
      requestRate: e.requestRate,
      errorRate: e.errorRate,
      p99Ms: e.p99Ms,
    })),
    traffic: regionTraffic(report),
  };
}

// The region's public traffic: what its edges (not its ingresses) took.
function regionTraffic(report: ZoneReport__Output): ZoneStatus['traffic'] {
  const edges = report.edges.filter((e) => e.mode === 'edge');
  if (!edges.length) return undefined;
  const requestRate = edges.reduce((a, e) => a + e.requestRate, 0);
  const errors = edges.reduce((a, e) => a + e.requestRate * e.errorRate, 0);
  return {
    requestRate,
    errorRate: requestRate > 0 ? errors / requestRate : 0,
    // Without the edges' histograms the worst edge's p99 is an upper bound.
    p99Ms: Math.max(...edges.map((e) => e.p99Ms)),
  };
}
