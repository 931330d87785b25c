// The columns `meridian get` shows per kind: what a user looks for first
// (where a region is and whether its zone is up, which hosts and ports a
// service answers on, where an instance is), more with `-o wide`.
import { formatTable } from './table';

// A stored document as the admin API returns it; only what the columns read.
export interface ResourceItem {
  kind?: string;
  metadata?: { name?: string; resourceVersion?: string | number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

interface Column {
  header: string;
  value: (item: ResourceItem, now: number) => string;
  wideOnly?: boolean;
}

const NONE = '-';

const name: Column = { header: 'NAME', value: (i) => i.metadata?.name ?? NONE };
const version: Column = { header: 'VERSION', value: (i) => text(i.metadata?.resourceVersion) };

const REGION_COLUMNS: Column[] = [
  name,
  { header: 'LOCATION', value: (i) => location(i.spec?.location) },
  { header: 'ONLINE', value: (i) => (typeof i.status?.online === 'boolean' ? (i.status.online ? 'yes' : 'no') : NONE) },
  { header: 'HEARTBEAT', value: (i, now) => ago(i.status?.lastHeartbeat, now) },
  { header: 'SERVICES', value: (i) => serviceHealth(i.status?.services) },
  { header: 'INGRESS', value: (i) => text(i.status?.ingressAddress), wideOnly: true },
  { header: 'TUNNEL', value: (i) => text(field(i.spec?.tunnel, 'address')), wideOnly: true },
  { header: 'ACKED', value: (i) => text(i.status?.ackedVersion), wideOnly: true },
  { ...version, wideOnly: true },
];

const SERVICE_COLUMNS: Column[] = [
  name,
  { header: 'HOSTS', value: (i) => hosts(i) },
  { header: 'PORTS', value: (i) => list(i.spec?.ports, (p) => `${text(field(p, 'port'))}/${text(field(p, 'protocol'))}`) },
  { header: 'ROUTES', value: (i) => list(i.spec?.routes, (r) => text(field(r, 'pathPrefix'))), wideOnly: true },
  { header: 'HEALTHCHECK', value: (i) => healthCheck(i.spec?.healthCheck), wideOnly: true },
  { ...version, wideOnly: true },
];

const INSTANCE_COLUMNS: Column[] = [
  name,
  { header: 'SERVICE', value: (i) => text(i.spec?.service) },
  { header: 'ADDRESS', value: (i) => hostPort(i.spec?.address, i.spec?.port) },
  { header: 'REGION', value: (i) => text(i.spec?.region), wideOnly: true },
  { header: 'WEIGHT', value: (i) => text(i.spec?.weight), wideOnly: true },
  { ...version, wideOnly: true },
];

// Certificates: the key is never shown (the API has it sealed).
const CERTIFICATE_COLUMNS: Column[] = [
  name,
  { header: 'HOSTS', value: (i) => list(i.spec?.hosts, (h) => text(h)) },
  { header: 'NOT AFTER', value: (i) => text(field(i.status, 'notAfter')) },
  { ...version, wideOnly: true },
];

// Routes and policies: their content does not fit a column.
const OTHER_COLUMNS: Column[] = [
  name,
  { header: 'SERVICE', value: (i) => text(i.spec?.service), wideOnly: true },
  version,
];

const COLUMNS_BY_KIND: Record<string, Column[]> = {
  Region: REGION_COLUMNS,
  Service: SERVICE_COLUMNS,
  Instance: INSTANCE_COLUMNS,
  Certificate: CERTIFICATE_COLUMNS,
};

export function resourceTable(kind: string, items: ResourceItem[], opts: { wide?: boolean; now?: number } = {}): string {
  const now = opts.now ?? Date.now();
  const columns = (COLUMNS_BY_KIND[kind] ?? OTHER_COLUMNS).filter((c) => opts.wide || !c.wideOnly);
  return formatTable(
    columns.map((c) => c.header),
    items.map((item) => columns.map((c) => c.value(item, now))),
  );
}

function text(v: unknown): string {
  if (v === undefined || v === null || v === '') return NONE;
  return String(v);
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function list(v: unknown, show: (entry: unknown) => string): string {
  return Array.isArray(v) && v.length > 0 ? v.map(show).join(', ') : NONE;
}

function location(v: unknown): string {
  const lat = field(v, 'latitude');
  const lon = field(v, 'longitude');
  return typeof lat === 'number' && typeof lon === 'number' ? `${lat},${lon}` : NONE;
}

// `echo 2/2, api 0/2`: healthy out of registered, per service.
function serviceHealth(v: unknown): string {
  return list(v, (s) => `${text(field(s, 'service'))} ${text(field(s, 'healthy'))}/${text(field(s, 'total'))}`);
}

// `<name>.mesh` always routes to the service, so it is listed first.
function hosts(item: ResourceItem): string {
  const extra = Array.isArray(item.spec?.hosts) ? item.spec.hosts.map(String) : [];
  const all = item.metadata?.name ? [`${item.metadata.name}.mesh`, ...extra] : extra;
  return all.length > 0 ? [...new Set(all)].join(', ') : NONE;
}

function healthCheck(v: unknown): string {
  const type = field(v, 'type');
  if (typeof type !== 'string') return NONE;
  const target = type === 'http' ? ` ${text(field(v, 'path'))}` : '';
  const every = field(v, 'interval') ? ` every ${text(field(v, 'interval'))}` : '';
  return `${type}${target}${every}`;
}

function hostPort(address: unknown, port: unknown): string {
  if (typeof address !== 'string') return NONE;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${text(port)}`;
}

// `4s ago`, `3m ago`, `2h ago`, `5d ago`: how fresh the zone's last word is.
function ago(v: unknown, now: number): string {
  if (typeof v !== 'string') return NONE;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return NONE;
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 2 * 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 2 * 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
