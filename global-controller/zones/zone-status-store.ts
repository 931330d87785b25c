// The global view of the zones, shared by every replica through etcd.
//
// The replica that serves a zone's stream is the writer of that zone's status
// and keeps the authoritative copy in memory; every other replica follows
// etcd. A status is three kinds of keys, so that what changes often is small:
//   /meridian/status/zones/<region>               the zone's own fields (addresses,
//                                                 acked version, peers, edges)
//   /meridian/status/heartbeats/<region>          last heartbeat and online
//   /meridian/status/services/<region>/<service>  healthy, total, load
// A heartbeat rewrites only its small key and tells no one unless the zone's
// online state flips; a report rewrites only the services it changed. Writes
// are coalesced per zone, one batch in flight. Local changes show at once,
// before etcd has them, and keep showing while etcd is away.
import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import type { ZoneReport__Output } from '../../proto/generated/meridian/federation/v1/ZoneReport';
import { withTimeout } from '../../lib/util/with-timeout';
import { isOnline, reportFields, summarizeServices, type ServiceHealthSummary, type ZoneStatus } from './zone-status';

const ROOT = '/meridian/status/';
const ZONES = `${ROOT}zones/`;
const HEARTBEATS = `${ROOT}heartbeats/`;
const SERVICES = `${ROOT}services/`;
// etcd's default --max-txn-ops.
const MAX_TXN_OPS = 128;

type Header = Omit<ZoneStatus, 'online' | 'lastHeartbeatMs' | 'services'>;

interface ZoneRecord {
  header: Header;
  online: boolean;
  lastHeartbeatMs: number;
  services: Map<string, ServiceHealthSummary>;
  // The services sorted by name, built when read after a change.
  sorted: ServiceHealthSummary[] | undefined;
  // Services whose load the last report set (non-zero).
  loaded: Set<string>;
  lastOnline: boolean;
}

// What changed in a zone's status: `view` when anything the zones' RegionsView
// carries changed (not only acks or nacks); `services` those whose counts
// changed, or 'all'.
export interface ZoneChange {
  view: boolean;
  services: ReadonlySet<string> | 'all';
}

const NOTHING: ReadonlySet<string> = new Set();

export declare interface ZoneStatusStore {
  // A zone's status or its effective online state changed.
  on(event: 'change', listener: (region: string, change: ZoneChange) => void): this;
}

export class ZoneStatusStore extends EventEmitter {
  private readonly zones = new Map<string, ZoneRecord>();
  // Regions with a stream on this replica (how many): their copy here rules.
  private readonly served = new Map<string, number>();
  private readonly pendingHeader = new Set<string>();
  private readonly pendingHeartbeat = new Set<string>();
  private readonly pendingServices = new Map<string, Map<string, ServiceHealthSummary | null>>();
  private readonly writing = new Set<string>();
  private watcher: Watcher | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private agingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly etcd: Etcd3, private readonly logger: Logger, private readonly timeoutMs = 2000) {
    super();
    // One listener per connected zone stream.
    this.setMaxListeners(0);
  }

  start(agingCheckMs = 250): void {
    void this.sync();
    // Heartbeats age without any event: look for zones that went silent.
    this.agingTimer = setInterval(() => this.checkAging(), agingCheckMs);
    this.agingTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.agingTimer);
    await this.watcher?.cancel().catch(() => undefined);
  }

  // ---- reads ----

  all(): ZoneStatus[] {
    return [...this.zones.keys()].sort((a, b) => a.localeCompare(b)).map((r) => this.get(r)!);
  }

  // `services: false` leaves the services out (cheap), for callers that read
  // them one by one with service().
  get(region: string, opts: { services: boolean } = { services: true }): ZoneStatus | undefined {
    const z = this.zones.get(region);
    if (!z) return undefined;
    return { ...z.header, online: z.online, lastHeartbeatMs: z.lastHeartbeatMs, services: opts.services ? this.sorted(z) : [] };
  }

  service(region: string, service: string): ServiceHealthSummary | undefined {
    return this.zones.get(region)?.services.get(service);
  }

  // What the offline sweeper needs, without building service lists.
  liveness(): Pick<ZoneStatus, 'region' | 'online' | 'lastHeartbeatMs' | 'heartbeatIntervalMs'>[] {
    return [...this.zones.values()].map((z) => ({ region: z.header.region, online: z.online, lastHeartbeatMs: z.lastHeartbeatMs, heartbeatIntervalMs: z.header.heartbeatIntervalMs }));
  }

  // ---- the serving replica ----

  // A zone's stream starts on this replica: it is online and this replica writes its status.
  attach(region: string, fields: Pick<ZoneStatus, 'zoneId' | 'replica' | 'heartbeatIntervalMs'>): void {
    this.served.set(region, (this.served.get(region) ?? 0) + 1);
    const z = this.record(region);
    const now = Date.now();
    z.header = { ...z.header, ...fields, connectedAtMs: now };
    z.online = true;
    z.lastHeartbeatMs = now;
    this.persist(region, { header: true, heartbeat: true });
    this.changed(region, { view: true, services: NOTHING });
  }

  detach(region: string): void {
    const n = (this.served.get(region) ?? 1) - 1;
    if (n > 0) this.served.set(region, n);
    else this.served.delete(region);
  }

  // Every message from the zone is a sign of life; only a flip of its online state is news.
  heartbeat(region: string): void {
    const z = this.zones.get(region);
    if (!z) return;
    const was = isOnline(this.get(region, { services: false })!);
    z.online = true;
    z.lastHeartbeatMs = Date.now();
    this.persist(region, { heartbeat: true });
    if (!was) {
      z.lastOnline = true;
      this.changed(region, { view: true, services: NOTHING });
    }
  }

  ack(region: string, version: number): void {
    const z = this.zones.get(region);
    if (!z) return;
    z.header = { ...z.header, ackedVersion: Math.max(z.header.ackedVersion, version) };
    this.persist(region, { header: true });
    this.heartbeat(region);
    this.changed(region, { view: false, services: NOTHING });
  }

  nack(region: string, version: number, reason: string): void {
    const z = this.zones.get(region);
    if (!z) return;
    z.header = { ...z.header, lastNack: { version, reason, atMs: Date.now() } };
    this.persist(region, { header: true });
    this.heartbeat(region);
    this.changed(region, { view: false, services: NOTHING });
  }

  // A report: the zone's own fields, and every service (the first report on
  // a stream, or one from a zone that sends instances) or only those that changed.
  report(region: string, report: ZoneReport__Output): void {
    const z = this.zones.get(region);
    if (!z) return;
    const fields = reportFields(report);
    const headerChanged = JSON.stringify(pickFields(z.header)) !== JSON.stringify(fields);
    if (headerChanged) {
      z.header = { ...z.header, ...fields };
      this.persist(region, { header: true });
    }
    const changed = new Set<string>();
    const set = (s: { service: string; healthy: number; total: number }) => {
      const load = report.load[s.service] ?? 0;
      const held = z.services.get(s.service);
      if (held && held.healthy === s.healthy && held.total === s.total && held.load === load) return;
      this.setService(region, z, { service: s.service, healthy: s.healthy, total: s.total, load });
      changed.add(s.service);
    };
    const remove = (service: string) => {
      if (!z.services.has(service)) return;
      this.setService(region, z, null, service);
      changed.add(service);
    };
    if (report.instances.length || !report.servicesPartial) {
      const all = report.instances.length ? summarizeServices(report) : report.services;
      const names = new Set(all.map((s) => s.service));
      for (const name of [...z.services.keys()]) if (!names.has(name)) remove(name);
      for (const s of all) set(s);
    } else {
      for (const s of report.services) set(s);
      for (const name of report.removedServices) remove(name);
      // Load moves without a count changing: look at what had load and what has it now.
      for (const name of new Set([...z.loaded, ...Object.keys(report.load)])) {
        const held = z.services.get(name);
        if (held && !changed.has(name)) set(held);
      }
    }
    z.loaded = new Set(Object.keys(report.load).filter((k) => report.load[k]! > 0));
    this.heartbeat(region);
    if (headerChanged || changed.size) this.changed(region, { view: true, services: changed });
  }

  // Leader work: persist that a silent zone is offline. Guarded by the mod
  // revision so a heartbeat written meanwhile by a serving replica wins.
  async markOffline(region: string): Promise<boolean> {
    const key = HEARTBEATS + region;
    const res = await withTimeout(this.etcd.get(key).exec(), this.timeoutMs, 'etcd');
    const kv = res.kvs[0];
    const z = this.zones.get(region);
    if (!kv || !z) return false;
    const beat = JSON.parse(kv.value.toString()) as { lastHeartbeatMs: number; online: boolean };
    if (!beat.online || isOnline({ ...this.get(region, { services: false })!, ...beat })) return false;
    const txn = await withTimeout(
      this.etcd.if(key, 'Mod', '==', kv.mod_revision).then(this.etcd.put(key).value(JSON.stringify({ ...beat, online: false }))).commit(),
      this.timeoutMs,
      'etcd',
    );
    return txn.succeeded;
  }

  // ---- local state ----

  private record(region: string): ZoneRecord {
    let z = this.zones.get(region);
    if (!z) {
      z = { header: emptyHeader(region), online: false, lastHeartbeatMs: 0, services: new Map(), sorted: [], loaded: new Set(), lastOnline: false };
      this.zones.set(region, z);
    }
    return z;
  }

  private sorted(z: ZoneRecord): ServiceHealthSummary[] {
    z.sorted ??= [...z.services.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
    return z.sorted;
  }

  // `s` null removes `name`.
  private setService(region: string, z: ZoneRecord, s: ServiceHealthSummary | null, name = s!.service): void {
    if (s) z.services.set(name, s);
    else z.services.delete(name);
    z.sorted = undefined;
    if (!this.served.has(region)) return;
    let pending = this.pendingServices.get(region);
    if (!pending) this.pendingServices.set(region, (pending = new Map()));
    pending.set(name, s);
    this.persist(region, {});
  }

  private changed(region: string, change: ZoneChange): void {
    const z = this.zones.get(region);
    if (z) z.lastOnline = isOnline(this.get(region, { services: false })!);
    this.emit('change', region, change);
  }

  private checkAging(): void {
    const now = Date.now();
    for (const z of this.zones.values()) {
      const online = z.online && now - z.lastHeartbeatMs <= 3 * z.header.heartbeatIntervalMs;
      if (z.lastOnline !== online) {
        z.lastOnline = online;
        this.emit('change', z.header.region, { view: true, services: NOTHING });
      }
    }
  }

  // ---- writes: what this replica serves, coalesced per zone ----

  private persist(region: string, what: { header?: boolean; heartbeat?: boolean }): void {
    if (!this.served.has(region)) return;
    if (what.header) this.pendingHeader.add(region);
    if (what.heartbeat) this.pendingHeartbeat.add(region);
    void this.flush(region);
  }

  private async flush(region: string): Promise<void> {
    if (this.writing.has(region)) return;
    this.writing.add(region);
    try {
      for (;;) {
        const z = this.zones.get(region)!;
        const ops: Promise<unknown>[] = [];
        if (this.pendingHeader.delete(region)) ops.push(this.etcd.put(ZONES + region).value(JSON.stringify(z.header)).op());
        if (this.pendingHeartbeat.delete(region)) ops.push(this.etcd.put(HEARTBEATS + region).value(JSON.stringify({ lastHeartbeatMs: z.lastHeartbeatMs, online: z.online })).op());
        const services = this.pendingServices.get(region);
        if (services) {
          for (const [name, s] of services) {
            if (ops.length >= MAX_TXN_OPS) break;
            services.delete(name);
            const key = `${SERVICES}${region}/${name}`;
            ops.push(s ? this.etcd.put(key).value(JSON.stringify({ healthy: s.healthy, total: s.total, load: s.load })).op() : this.etcd.delete().key(key).op());
          }
          if (!services.size) this.pendingServices.delete(region);
        }
        if (!ops.length) return;
        try {
          const success = (await Promise.all(ops)) as never[];
          await withTimeout(this.etcd.kv.txn({ compare: [], success, failure: [] }), this.timeoutMs, 'etcd');
        } catch (err) {
          // etcd is away: the status stays in memory; the next change writes again.
          this.logger.debug({ region, err: (err as Error).message }, 'zone status not persisted');
          return;
        }
      }
    } finally {
      this.writing.delete(region);
    }
  }

  // ---- reads from etcd: what other replicas serve ----

  private accept(kv: IKeyValue, deleted: boolean): void {
    const key = kv.key.toString();
    const [kind, region, service] = splitKey(key);
    if (!region || this.served.has(region)) return;
    try {
      if (kind === 'zones') return this.acceptHeader(region, deleted ? undefined : JSON.parse(kv.value.toString()));
      if (kind === 'heartbeats' && !deleted) return this.acceptHeartbeat(region, JSON.parse(kv.value.toString()));
      if (kind === 'services' && service) return this.acceptService(region, service, deleted ? null : JSON.parse(kv.value.toString()));
    } catch (err) {
      this.logger.warn({ key, err: (err as Error).message }, 'unreadable zone status in etcd');
    }
  }

  private acceptHeader(region: string, value: (Header & Partial<ZoneStatus>) | undefined): void {
    if (!value) {
      if (this.zones.delete(region)) this.emit('change', region, { view: true, services: 'all' });
      return;
    }
    const z = this.record(region);
    // Statuses written by replicas before the split carry everything in this key.
    const { services, online, lastHeartbeatMs, ...header } = value;
    const before = JSON.stringify(z.header);
    z.header = { ...emptyHeader(region), ...header, region };
    let all = false;
    if (Array.isArray(services)) {
      z.services = new Map(services.map((s) => [s.service, s]));
      z.sorted = undefined;
      all = true;
    }
    if (typeof lastHeartbeatMs === 'number' && lastHeartbeatMs >= z.lastHeartbeatMs) {
      z.lastHeartbeatMs = lastHeartbeatMs;
      z.online = !!online;
    }
    if (all || before !== JSON.stringify(z.header)) this.changed(region, { view: true, services: all ? 'all' : NOTHING });
  }

  private acceptHeartbeat(region: string, beat: { lastHeartbeatMs: number; online: boolean }): void {
    const z = this.record(region);
    // An older heartbeat than held (a replica that lost the zone) is stale.
    if (beat.lastHeartbeatMs < z.lastHeartbeatMs) return;
    z.lastHeartbeatMs = beat.lastHeartbeatMs;
    z.online = beat.online;
    const online = isOnline(this.get(region, { services: false })!);
    if (online !== z.lastOnline) this.changed(region, { view: true, services: NOTHING });
  }

  private acceptService(region: string, service: string, value: { healthy: number; total: number; load: number } | null): void {
    const z = this.record(region);
    if (value) z.services.set(service, { service, healthy: value.healthy, total: value.total, load: value.load ?? 0 });
    else if (!z.services.delete(service)) return;
    z.sorted = undefined;
    this.changed(region, { view: true, services: new Set([service]) });
  }

  // List then watch from the listed revision; on any watch failure, start over.
  private async sync(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await withTimeout(this.etcd.getAll().prefix(ROOT).exec(), this.timeoutMs, 'etcd');
      for (const kv of res.kvs) this.accept(kv, false);
      const watcher = await withTimeout(
        this.etcd.watch().prefix(ROOT).startRevision(String(Number(res.header.revision) + 1)).create(),
        this.timeoutMs,
        'etcd watch',
      );
      if (this.stopped) return void watcher.cancel().catch(() => undefined);
      this.watcher = watcher;
      watcher.on('put', (kv) => this.accept(kv, false));
      watcher.on('delete', (kv) => this.accept(kv, true));
      watcher.on('error', (err) => {
        this.logger.warn({ err: err.message }, 'zone status watch failed; restarting');
        void watcher.cancel().catch(() => undefined);
        this.retry();
      });
      // 'disconnected' is followed by etcd3's own reconnect from the last revision.
      watcher.on('disconnected', () => undefined);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'zone status sync failed; retrying');
      this.retry();
    }
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.sync(), 1000);
    this.retryTimer.unref();
  }
}

// "zones" | "heartbeats" | "services", region, service.
function splitKey(key: string): [string, string | undefined, string | undefined] {
  const rest = key.slice(ROOT.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return [rest, undefined, undefined];
  const kind = rest.slice(0, slash);
  const tail = rest.slice(slash + 1);
  if (kind !== 'services') return [kind, tail, undefined];
  const s = tail.indexOf('/');
  return s < 0 ? [kind, tail, undefined] : [kind, tail.slice(0, s), tail.slice(s + 1)];
}

function pickFields(h: Header): Record<string, unknown> {
  return { ingressAddress: h.ingressAddress, dnsAddress: h.dnsAddress, httpAddress: h.httpAddress, tunnel: h.tunnel, peers: h.peers, edges: h.edges, traffic: h.traffic };
}

function emptyHeader(region: string): Header {
  return {
    region,
    zoneId: '',
    replica: '',
    heartbeatIntervalMs: 0,
    connectedAtMs: 0,
    ackedVersion: 0,
    lastNack: null,
    ingressAddress: '',
    dnsAddress: '',
    httpAddress: '',
    tunnel: null,
    peers: [],
    edges: [],
  };
}
