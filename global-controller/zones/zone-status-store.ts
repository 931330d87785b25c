// The global view of the zones, shared by every replica through etcd.
//
// The replica that serves a zone's stream writes that zone's status (on every
// report, ack and heartbeat, coalesced to one write in flight per zone); every
// replica watches the prefix, so each can answer GET /v1/regions and push the
// view to its own zones. Local writes show at once, before etcd has them, and
// keep showing while etcd is away.
import { EventEmitter } from 'node:events';
import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import { withTimeout } from '../../lib/util/with-timeout';
import { isOnline, type ZoneStatus } from './zone-status';

const PREFIX = '/meridian/status/zones/';

export declare interface ZoneStatusStore {
  // A zone's status or its effective online state changed.
  on(event: 'change', listener: (region: string) => void): this;
}

export class ZoneStatusStore extends EventEmitter {
  private readonly statuses = new Map<string, ZoneStatus>();
  private readonly lastOnline = new Map<string, boolean>();
  private readonly pending = new Map<string, ZoneStatus>();
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

  all(): ZoneStatus[] {
    return [...this.statuses.values()].sort((a, b) => a.region.localeCompare(b.region));
  }

  get(region: string): ZoneStatus | undefined {
    return this.statuses.get(region);
  }

  // Record a status this replica observed and persist it.
  put(status: ZoneStatus): void {
    this.accept(status, true);
    this.pending.set(status.region, status);
    void this.flush(status.region);
  }

  // Leader work: persist that a silent zone is offline. Guarded by the mod
  // revision so a heartbeat written meanwhile by a serving replica wins.
  async markOffline(region: string): Promise<boolean> {
    const key = PREFIX + region;
    const res = await withTimeout(this.etcd.get(key).exec(), this.timeoutMs, 'etcd');
    const kv = res.kvs[0];
    if (!kv) return false;
    const status = JSON.parse(kv.value.toString()) as ZoneStatus;
    if (!status.online || isOnline(status)) return false;
    status.online = false;
    const txn = await withTimeout(
      this.etcd.if(key, 'Mod', '==', kv.mod_revision).then(this.etcd.put(key).value(JSON.stringify(status))).commit(),
      this.timeoutMs,
      'etcd',
    );
    return txn.succeeded;
  }

  private accept(status: ZoneStatus, local: boolean): void {
    const current = this.statuses.get(status.region);
    // A watched value older than what this replica already holds is stale.
    if (!local && current && current.lastHeartbeatMs > status.lastHeartbeatMs) return;
    this.statuses.set(status.region, status);
    this.lastOnline.set(status.region, isOnline(status));
    this.emit('change', status.region);
  }

  private checkAging(): void {
    const now = Date.now();
    for (const s of this.statuses.values()) {
      const online = isOnline(s, now);
      if (this.lastOnline.get(s.region) !== online) {
        this.lastOnline.set(s.region, online);
        this.emit('change', s.region);
      }
    }
  }

  private async flush(region: string): Promise<void> {
    if (this.writing.has(region)) return;
    this.writing.add(region);
    try {
      for (let status = this.pending.get(region); status; status = this.pending.get(region)) {
        this.pending.delete(region);
        try {
          await withTimeout(this.etcd.put(PREFIX + region).value(JSON.stringify(status)).exec(), this.timeoutMs, 'etcd');
        } catch (err) {
          // etcd is away: the status stays in memory; the next heartbeat writes again.
          this.logger.debug({ region, err: (err as Error).message }, 'zone status not persisted');
          break;
        }
      }
    } finally {
      this.writing.delete(region);
    }
  }

  // List then watch from the listed revision; on any watch failure, start over.
  private async sync(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await withTimeout(this.etcd.getAll().prefix(PREFIX).exec(), this.timeoutMs, 'etcd');
      for (const kv of res.kvs) this.accept(JSON.parse(kv.value.toString()) as ZoneStatus, false);
      const watcher = await withTimeout(
        this.etcd.watch().prefix(PREFIX).startRevision(String(Number(res.header.revision) + 1)).create(),
        this.timeoutMs,
        'etcd watch',
      );
      if (this.stopped) return void watcher.cancel().catch(() => undefined);
      this.watcher = watcher;
      watcher.on('put', (kv) => {
        try {
          this.accept(JSON.parse(kv.value.toString()) as ZoneStatus, false);
        } catch (err) {
          this.logger.warn({ key: kv.key.toString(), err: (err as Error).message }, 'unreadable zone status in etcd');
        }
      });
      watcher.on('delete', (kv) => {
        const region = kv.key.toString().slice(PREFIX.length);
        if (this.statuses.delete(region)) this.emit('change', region);
      });
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
