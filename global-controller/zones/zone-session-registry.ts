// The live zone session of every region, shared by the replicas through etcd:
//   /meridian/system/zone-sessions/<region>    who holds the region (./zone-session-claim.ts),
//                                              under the lease of the replica that serves it
//   /meridian/system/revoked-zone-cas/<hex>    zone CA keys an operator revoked
// A replica takes a region's record in a transaction when a zone joins, and
// watches the records: when its record is taken over (the same zone came back
// through another replica) it ends its local stream. A record goes when its
// stream closes, when its replica dies (the lease), or when an operator ends
// the session (which revokes the zone CA in the same transaction).
//
// etcd being away must not end a live session: a claim fails (the zone is
// refused with UNAVAILABLE and retries), but streams already joined go on.
// When the replica's lease was lost meanwhile, it takes a new one and puts
// its records back, unless another session took the region meanwhile or the
// zone CA was revoked, and only then ends the stream.
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import { withTimeout } from '../../lib/util/with-timeout';
import { decideClaim, identityKey, revokedMessage, type RevokedZoneCa, type ZoneSessionRecord } from './zone-session-claim';

const SESSIONS = '/meridian/system/zone-sessions/';
const REVOKED = '/meridian/system/revoked-zone-cas/';

// How a local stream is told to end: another session took its region, or its
// zone CA was revoked.
export type EndSession = (why: 'replaced' | 'revoked', message: string) => void;

export class ZoneSessionRefused extends Error {
  constructor(readonly why: 'exists' | 'revoked', message: string) {
    super(message);
  }
}

export class ZoneSessionNotFound extends Error {}

interface LocalEntry {
  record: ZoneSessionRecord;
  // The etcd revision of our last write of the record: older events are stale.
  revision: number;
  end: EndSession;
}

export interface ZoneSessionRegistryOptions {
  leaseTtlSeconds?: number;
  timeoutMs?: number;
  retryMs?: number;
}

export class ZoneSessionRegistry {
  private readonly local = new Map<string, LocalEntry>();
  private lease: Lease | undefined;
  private leaseId: Promise<string> | undefined;
  // Regions whose record must be written again (lease lost, record deleted).
  private readonly toReassert = new Set<string>();
  private reasserting = false;
  private watcher: Watcher | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private reassertTimer: NodeJS.Timeout | undefined;
  private readonly ttl: number;
  private readonly timeoutMs: number;
  private readonly retryMs: number;

  constructor(private readonly etcd: Etcd3, private readonly replica: string, private readonly logger: Logger, opts: ZoneSessionRegistryOptions = {}) {
    this.ttl = opts.leaseTtlSeconds ?? 10;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.retryMs = opts.retryMs ?? 1000;
  }

  start(): void {
    void this.sync();
  }

  // The streams were ended before (their records deleted); the lease goes
  // too, so nothing of this replica stays behind.
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.reassertTimer);
    await this.watcher?.cancel().catch(() => undefined);
    const lease = this.lease;
    this.lease = this.leaseId = undefined;
    if (lease) await withTimeout(lease.revoke(), this.timeoutMs, 'etcd').catch(() => lease.release());
  }

  // ---- the zone's stream ----

  // Refused with ZoneSessionRefused ('revoked' before 'exists'); any other
  // error is etcd being away.
  async claim(record: ZoneSessionRecord, end: EndSession): Promise<void> {
    const key = SESSIONS + record.region;
    const revokedKey = REVOKED + identityKey(record.identity);
    const leaseId = await this.grantedLease();
    for (let attempt = 0; attempt < 3; attempt++) {
      const [held, revoked] = await Promise.all([this.read<ZoneSessionRecord>(key), this.read<RevokedZoneCa>(revokedKey)]);
      if (revoked) throw new ZoneSessionRefused('revoked', revokedMessage(revoked.value));
      const decision = decideClaim(held?.value, record);
      if (!decision.take) throw new ZoneSessionRefused('exists', decision.reason);
      const txn = await this.writeRecord(key, revokedKey, held, record, leaseId);
      if (!txn.succeeded) continue;
      const previous = this.local.get(record.region);
      this.local.set(record.region, { record, revision: Number(txn.header.revision), end });
      this.toReassert.delete(record.region);
      if (decision.replaces) {
        this.logger.info({ region: record.region, zoneId: record.zoneId, replaced: decision.replaces.zoneId, replacedOn: decision.replaces.replica }, 'zone session replaced by the same zone CA');
      }
      if (previous && previous.record.sessionId !== record.sessionId) previous.end('replaced', replacedMessage(record));
      return;
    }
    throw new Error(`the zone session record of region ${record.region} changed under every attempt to take it`);
  }

  // The stream closed: its record goes (retried while etcd is away).
  release(region: string, sessionId: string): void {
    const entry = this.local.get(region);
    if (!entry || entry.record.sessionId !== sessionId) return;
    this.local.delete(region);
    this.toReassert.delete(region);
    void this.deleteRecord(region, sessionId, 0);
  }

  private async deleteRecord(region: string, sessionId: string, attempt: number): Promise<void> {
    const key = SESSIONS + region;
    try {
      const held = await this.read<ZoneSessionRecord>(key);
      if (!held || held.value.sessionId !== sessionId) return;
      await this.call(this.etcd.if(key, 'Mod', '==', held.kv.mod_revision).then(this.etcd.delete().key(key)).commit());
    } catch (err) {
      // While this replica's lease lives the record would stay and hold the
      // region: try until etcd answers (the record names the session, so a
      // later session of the region is never deleted).
      if (this.stopped) return;
      if (attempt === 0) this.logger.warn({ region, err: (err as Error).message }, 'zone session record not deleted yet; retrying');
      setTimeout(() => void this.deleteRecord(region, sessionId, attempt + 1), Math.min(5 * this.retryMs, this.retryMs * (attempt + 1))).unref();
    }
  }

  // ---- operators ----

  async list(): Promise<ZoneSessionRecord[]> {
    const raw = await this.call(this.etcd.getAll().prefix(SESSIONS).strings());
    const out: ZoneSessionRecord[] = [];
    for (const value of Object.values(raw)) {
      try {
        out.push(JSON.parse(value) as ZoneSessionRecord);
      } catch {
        // unreadable: left out
      }
    }
    return out.sort((a, b) => a.region.localeCompare(b.region));
  }

  // Ends the region's session and revokes its zone CA key, in one
  // transaction; the replica that serves the stream ends it when it sees the
  // record go. ZoneSessionNotFound when the region has no live session.
  async end(region: string): Promise<{ session: ZoneSessionRecord; revoked: RevokedZoneCa }> {
    const key = SESSIONS + region;
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await this.read<ZoneSessionRecord>(key);
      if (!held) throw new ZoneSessionNotFound(`region ${region} has no live zone session`);
      const session = held.value;
      const revoked: RevokedZoneCa = { identity: session.identity, region, zoneId: session.zoneId, revokedAtMs: Date.now() };
      const txn = await this.call(
        this.etcd
          .if(key, 'Mod', '==', held.kv.mod_revision)
          .then(this.etcd.delete().key(key), this.etcd.put(REVOKED + identityKey(session.identity)).value(JSON.stringify(revoked)))
          .commit(),
      );
      if (txn.succeeded) {
        this.logger.warn({ region, zoneId: session.zoneId, identity: session.identity }, 'zone session ended by an operator; its zone CA is revoked');
        return { session, revoked };
      }
    }
    throw new Error(`the zone session record of region ${region} changed under every attempt to end it`);
  }

  // ---- the replica's lease ----

  private grantedLease(): Promise<string> {
    if (!this.leaseId) {
      const lease = this.etcd.lease(this.ttl);
      this.lease = lease;
      lease.on('lost', (err: Error) => {
        if (this.lease !== lease) return;
        this.lease = this.leaseId = undefined;
        lease.release();
        if (this.stopped) return;
        // The records may be gone with it: put back those still served here.
        if (this.local.size) this.logger.warn({ err: err.message, sessions: this.local.size }, 'zone session lease lost; the streams go on and their records are written again');
        for (const region of this.local.keys()) this.toReassert.add(region);
        this.scheduleReassert();
      });
      this.leaseId = withTimeout(lease.grant(), this.timeoutMs, 'etcd lease').catch((err: Error) => {
        if (this.lease === lease) {
          this.lease = this.leaseId = undefined;
          lease.release();
        }
        throw err;
      });
    }
    return this.leaseId;
  }

  // ---- keeping the records of local streams ----

  private scheduleReassert(): void {
    if (this.stopped || this.reassertTimer || !this.toReassert.size) return;
    this.reassertTimer = setTimeout(() => {
      this.reassertTimer = undefined;
      void this.reassertAll();
    }, this.reasserting ? this.retryMs : 0);
    this.reassertTimer.unref();
  }

  private async reassertAll(): Promise<void> {
    if (this.reasserting) return this.scheduleReassert();
    this.reasserting = true;
    try {
      for (const region of [...this.toReassert]) {
        try {
          await this.reassert(region);
          this.toReassert.delete(region);
        } catch (err) {
          this.logger.debug({ region, err: (err as Error).message }, 'zone session record not written again yet; retrying');
          break;
        }
      }
    } finally {
      this.reasserting = false;
    }
    if (this.toReassert.size) {
      this.reassertTimer = setTimeout(() => {
        this.reassertTimer = undefined;
        void this.reassertAll();
      }, this.retryMs);
      this.reassertTimer.unref();
    }
  }

  // Writes the record of a local stream again under the current lease; ends
  // the stream when the region was taken by another session or its zone CA
  // was revoked. Throws while etcd is away.
  private async reassert(region: string, attempt = 0): Promise<void> {
    const entry = this.local.get(region);
    if (!entry) return;
    const { record } = entry;
    const key = SESSIONS + region;
    const revokedKey = REVOKED + identityKey(record.identity);
    const leaseId = await this.grantedLease();
    const [held, revoked] = await Promise.all([this.read<ZoneSessionRecord>(key), this.read<RevokedZoneCa>(revokedKey)]);
    if (this.local.get(region) !== entry) return;
    if (revoked) return this.endLocal(region, 'revoked', `this zone session was ended: ${revokedMessage(revoked.value)}`);
    if (held && held.value.sessionId !== record.sessionId) return this.endLocal(region, 'replaced', replacedMessage(held.value));
    const txn = await this.writeRecord(key, revokedKey, held, record, leaseId);
    if (this.local.get(region) !== entry) {
      // The stream closed while the record was written: it goes again.
      if (txn.succeeded) void this.deleteRecord(region, record.sessionId, 0);
      return;
    }
    if (txn.succeeded) {
      entry.revision = Number(txn.header.revision);
      return;
    }
    // Changed in between: look again (a few times; then the retry timer does).
    if (attempt >= 2) throw new Error(`the zone session record of region ${region} keeps changing`);
    return this.reassert(region, attempt + 1);
  }

  // The record written only while the identity is not revoked and no one
  // changed the record since it was read.
  private writeRecord(key: string, revokedKey: string, held: { kv: { mod_revision: string } } | undefined, record: ZoneSessionRecord, leaseId: string) {
    return this.call(
      this.etcd
        .if(revokedKey, 'Create', '==', 0)
        .and(key, held ? 'Mod' : 'Create', '==', held ? held.kv.mod_revision : 0)
        .then(this.etcd.put(key).value(JSON.stringify(record)).lease(leaseId))
        .commit(),
    );
  }

  private endLocal(region: string, why: 'replaced' | 'revoked', message: string): void {
    const entry = this.local.get(region);
    if (!entry) return;
    this.local.delete(region);
    this.toReassert.delete(region);
    this.logger.warn({ region, zoneId: entry.record.zoneId, why }, 'zone session ended');
    entry.end(why, message);
  }

  // ---- following the records ----

  private onPut(kv: IKeyValue): void {
    const region = kv.key.toString().slice(SESSIONS.length);
    const entry = this.local.get(region);
    if (!entry || Number(kv.mod_revision) <= entry.revision) return;
    let record: ZoneSessionRecord;
    try {
      record = JSON.parse(kv.value.toString()) as ZoneSessionRecord;
    } catch {
      return;
    }
    if (record.sessionId !== entry.record.sessionId) this.endLocal(region, 'replaced', replacedMessage(record));
  }

  private onDelete(kv: IKeyValue): void {
    const region = kv.key.toString().slice(SESSIONS.length);
    const entry = this.local.get(region);
    if (!entry || Number(kv.mod_revision) <= entry.revision) return;
    // Ended by an operator (then revoked), or gone with a lost lease: reassert tells which.
    this.toReassert.add(region);
    this.scheduleReassert();
  }

  // List then watch from the listed revision; on any watch failure, start over.
  private async sync(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await this.call(this.etcd.getAll().prefix(SESSIONS).exec());
      const listed = new Map(res.kvs.map((kv) => [kv.key.toString().slice(SESSIONS.length), kv]));
      for (const [region, entry] of this.local) {
        const kv = listed.get(region);
        if (kv) this.onPut(kv);
        else if (Number(res.header.revision) > entry.revision) {
          this.toReassert.add(region);
          this.scheduleReassert();
        }
      }
      const watcher = await this.call(this.etcd.watch().prefix(SESSIONS).startRevision(String(Number(res.header.revision) + 1)).create(), 'etcd watch');
      if (this.stopped) return void watcher.cancel().catch(() => undefined);
      this.watcher = watcher;
      watcher.on('put', (kv) => this.onPut(kv));
      watcher.on('delete', (kv) => this.onDelete(kv));
      watcher.on('error', (err) => {
        this.logger.warn({ err: err.message }, 'zone session watch failed; restarting');
        void watcher.cancel().catch(() => undefined);
        this.retry();
      });
      // 'disconnected' is followed by etcd3's own reconnect from the last revision.
      watcher.on('disconnected', () => undefined);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'zone session sync failed; retrying');
      this.retry();
    }
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.sync(), this.retryMs);
    this.retryTimer.unref();
  }

  private async read<T>(key: string): Promise<{ value: T; kv: IKeyValue } | undefined> {
    const res = await this.call(this.etcd.get(key).exec());
    const kv = res.kvs[0];
    if (!kv) return undefined;
    try {
      return { value: JSON.parse(kv.value.toString()) as T, kv };
    } catch {
      return undefined;
    }
  }

  private call<T>(p: Promise<T>, what = 'etcd'): Promise<T> {
    return withTimeout(p, this.timeoutMs, what);
  }
}

function replacedMessage(by: ZoneSessionRecord): string {
  return `this zone session was replaced by a newer one of the same zone CA: zone ${by.zoneId} on replica ${by.replica} since ${new Date(by.sinceMs).toISOString()}`;
}
