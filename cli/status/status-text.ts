// `meridian status` as text: one row per region (zone online, heartbeat age,
// acked version, edges, services healthy/total, traffic), then the tunnels.
// Reads GET /v1/status (MeshStatus, global-controller/dashboard/status-model.ts);
// only the fields used are declared here, since the CLI does not import parts.
import { NO_COLOUR, visibleLength, type Palette } from './colour';

interface Count {
  healthy: number;
  total: number;
}

export interface MeshStatusBody {
  generatedAt: string;
  regions: {
    name: string;
    online: boolean;
    lastHeartbeat: string | null;
    ackedVersion: number;
    services: ({ service: string } & Count)[];
    edges: { name: string; announcing: boolean; healthy: boolean }[];
    traffic: { requestRate: number; errorRate: number; p99Ms: number } | null;
  }[];
  tunnels: { from: string; to: string; up: boolean; handshakeAgeMs: number | null; rttMs: number }[];
}

const NONE = '-';

export function statusText(status: MeshStatusBody, c: Palette = NO_COLOUR): string {
  const now = Date.parse(status.generatedAt);
  const regions = status.regions.map((r) => [
    c.bold(r.name),
    r.online ? c.green('yes') : c.red('no'),
    r.lastHeartbeat ? ago(now - Date.parse(r.lastHeartbeat)) : 'never',
    r.ackedVersion > 0 ? String(r.ackedVersion) : NONE,
    edges(r.edges, c),
    r.services.length > 0 ? r.services.map((s) => paintHealth(`${s.service} ${s.healthy}/${s.total}`, s, c)).join(', ') : NONE,
    r.traffic ? traffic(r.traffic) : NONE,
  ]);
  let out = status.regions.length > 0
    ? table(['REGION', 'ONLINE', 'HEARTBEAT', 'ACKED', 'EDGES', 'SERVICES', 'TRAFFIC'], regions)
    : 'no regions yet\n';
  out += '\n';
  if (status.tunnels.length === 0) return `${out}${c.dim('no tunnels reported')}\n`;
  const tunnels = status.tunnels.map((t) => [
    `${t.from} -> ${t.to}`,
    t.up ? c.green('yes') : c.red('no'),
    t.handshakeAgeMs === null ? 'never' : ago(t.handshakeAgeMs),
    t.rttMs > 0 ? `${round(t.rttMs)} ms` : NONE,
  ]);
  return out + table(['TUNNEL', 'UP', 'HANDSHAKE', 'RTT'], tunnels);
}

// `2/2 announcing`, or which ones are not: `1/2 announcing (fra-b withdrawn)`.
function edges(list: MeshStatusBody['regions'][number]['edges'], c: Palette): string {
  if (list.length === 0) return NONE;
  const announcing = list.filter((e) => e.announcing).length;
  const withdrawn = list.filter((e) => !e.announcing).map((e) => e.name);
  const text = `${announcing}/${list.length} announcing${withdrawn.length ? ` (${withdrawn.join(', ')} withdrawn)` : ''}`;
  return announcing === list.length ? c.green(text) : announcing > 0 ? c.yellow(text) : c.red(text);
}

function paintHealth(text: string, n: Count, c: Palette): string {
  if (n.total > 0 && n.healthy === n.total) return c.green(text);
  return n.healthy > 0 ? c.yellow(text) : c.red(text);
}

// requestRate per second, errorRate a fraction, p99 in milliseconds.
function traffic(t: { requestRate: number; errorRate: number; p99Ms: number }): string {
  return `${t.requestRate < 10 ? t.requestRate.toFixed(1) : Math.round(t.requestRate)} req/s, ${(t.errorRate * 100).toFixed(2)}% err, p99 ${round(t.p99Ms)} ms`;
}

function round(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

// `4s ago`, `3m ago`, `2h ago`, `5d ago`, as `meridian get regions` says it.
function ago(ms: number): string {
  if (Number.isNaN(ms)) return NONE;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 2 * 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 2 * 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

// cli/table.ts's layout (columns three spaces apart), padded by what shows on
// screen so colour codes do not push columns out of line.
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell)))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
