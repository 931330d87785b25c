// The in-memory copy of every resource, kept by list + watch: list the
// prefix, then watch from the revision after the list. When etcd goes away the
// copy stays (reads keep answering from it) and the watch resumes from its
// last revision when etcd is back; if etcd compacted that revision meanwhile,
// the cache lists again and emits the differences as one ChangeBatch, so
// listeners of 'changes' end up correct without a restart.
//
// Emits 'changes' (ChangeBatch) for every watch response that changes
// something, in revision order. Listeners share the batch: treat it as read-only.
import { EventEmitter } from 'node:events';
import type { IEvent, IRangeResponse, Namespace } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import { emitToEach } from './emit-to-each';
import { callEtcd } from './etcd-call';
import { changeFromEvent, compareResources, decodeKeyValue, resourceKey } from './resource-codec';
import { ResumableWatch } from './resumable-watch';
import { retryDelayMs } from './retry-backoff';
import type { ChangeBatch, ChangeEvent, StoredResource } from './types';

export interface ResourceCacheOptions {
  // The store's prefix: keys in it are "<Kind>/<name>".
  namespace: Namespace;
  logger: Logger;
  callTimeoutMs: number;
}

interface RevisionWaiter {
  revision: number;
  resolve: (reached: boolean) => void;
}

export class ResourceCache extends EventEmitter {
  private resources = new Map<string, StoredResource>();
  private seenRevision = 0;
  private isWarm = false;
  private running = false;
  private stopped = false;
  private syncLoop: Promise<void> | undefined;
  private watch: ResumableWatch | undefined;
  // Ends whatever the sync loop is waiting for (a pause or a watch), on stop.
  private interruptWait: (() => void) | undefined;
  private readonly revisionWaiters = new Set<RevisionWaiter>();
  private readonly warmWaiters = new Set<(warm: boolean) => void>();

  constructor(private readonly opts: ResourceCacheOptions) {
    super();
  }

  get warm(): boolean {
    return this.isWarm;
  }

  // Highest etcd revision the cache reflects.
  get revision(): number {
    return this.seenRevision;
  }

  // Whether the watch is currently attached to etcd.
  get watching(): boolean {
    return this.watch?.connected ?? false;
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.syncLoop = this.runSyncLoop().catch((err: unknown) => {
      this.opts.logger.error({ err }, 'resource cache sync loop failed; the cache no longer follows etcd');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.isWarm = false;
    this.interruptWait?.();
    await this.watch?.close();
    this.watch = undefined;
    await this.syncLoop;
    for (const waiter of this.revisionWaiters) waiter.resolve(false);
    this.revisionWaiters.clear();
    for (const resolve of this.warmWaiters) resolve(false);
    this.warmWaiters.clear();
  }

  // Resolves true once warm, false on timeout or stop.
  whenWarm(timeoutMs?: number): Promise<boolean> {
    if (this.isWarm) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (warm: boolean): void => {
        clearTimeout(timer);
        this.warmWaiters.delete(done);
        resolve(warm);
      };
      this.warmWaiters.add(done);
      if (timeoutMs !== undefined) timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  // Resolves true once the cache reflects `revision`, false on timeout or stop.
  waitForRevision(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.seenRevision >= revision) return Promise.resolve(true);
    if (!this.running || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: RevisionWaiter = {
        revision,
        resolve: (reached) => {
          clearTimeout(timer);
          this.revisionWaiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.revisionWaiters.add(waiter);
    });
  }

  // Reads hand out copies: callers may change them without touching the cache.
  get(kind: string, name: string): StoredResource | undefined {
    const found = this.resources.get(resourceKey(kind, name));
    return found && structuredClone(found);
  }

  // The cached records themselves, sorted, for readers that only serialize
  // them (a snapshot for a zone): no copy of 10,000 documents per reader.
  // Callers must not change them.
  listShared(): readonly Readonly<StoredResource>[] {
    return [...this.resources.values()].sort(compareResources);
  }

  list(kind?: string): StoredResource[] {
    const out: StoredResource[] = [];
    for (const r of this.resources.values()) if (kind === undefined || r.kind === kind) out.push(structuredClone(r));
    return out.sort(compareResources);
  }

  private async runSyncLoop(): Promise<void> {
    const logger = this.opts.logger;
    let listFailures = 0;
    let quickLosses = 0;
    while (!this.stopped) {
      let listing: IRangeResponse;
      try {
        listing = await callEtcd('list resources', this.opts.callTimeoutMs, (options) =>
          this.opts.namespace.getAll().all().options(options).exec(),
        );
      } catch (err) {
        listFailures += 1;
        const delayMs = retryDelayMs(listFailures);
        const fields = { err: (err as Error).message, retryInMs: delayMs, warm: this.isWarm };
        if (listFailures === 1) logger.warn(fields, 'cannot list resources from etcd; retrying');
        else logger.debug(fields, 'still cannot list resources from etcd');
        await this.pause(delayMs);
        continue;
      }
      if (this.stopped) break;
      listFailures = 0;
      this.load(listing);
      const listedAt = this.seenRevision;
      await this.follow(listedAt + 1);
      if (this.stopped) break;
      // History lost again right after a list: do not spin on it.
      quickLosses = this.seenRevision === listedAt ? quickLosses + 1 : 0;
      if (quickLosses > 1) await this.pause(retryDelayMs(quickLosses));
    }
  }

  // Resolves when the watch has lost its history (time to list again) or on stop.
  private follow(startRevision: number): Promise<void> {
    return new Promise((resolve) => {
      this.interruptWait = resolve;
      const watch = new ResumableWatch(
        { namespace: this.opts.namespace, startRevision, connectTimeoutMs: this.opts.callTimeoutMs, logger: this.opts.logger },
        {
          onEvents: (events) => this.applyEvents(events),
          onProgress: (revision) => this.advance(revision),
          onHistoryLost: (err) => {
            this.opts.logger.warn({ err: err.message }, 'resource cache lost its place in etcd history; listing again');
            if (this.watch === watch) this.watch = undefined;
            resolve();
          },
        },
      );
      this.watch = watch;
      watch.start();
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.interruptWait = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  // A full listing: the first one warms the cache; later ones (after lost
  // history) replace it and emit what differs.
  private load(listing: IRangeResponse): void {
    const fresh = new Map<string, StoredResource>();
    for (const kv of listing.kvs) {
      const r = decodeKeyValue(kv);
      if (r) fresh.set(resourceKey(r.kind, r.name), r);
      else this.opts.logger.warn({ key: kv.key.toString() }, 'skipping a value in etcd that is not a resource document');
    }
    const revision = Number(listing.header.revision);
    const previous = this.resources;
    const wasWarm = this.isWarm;
    this.resources = fresh;
    this.seenRevision = Math.max(this.seenRevision, revision);
    this.isWarm = true;
    this.opts.logger.info({ revision, resources: fresh.size, relist: wasWarm }, 'resource cache loaded from etcd');
    if (wasWarm) {
      const changes = differences(previous, fresh, revision);
      if (changes.length > 0) this.emitChanges({ revision, changes });
    } else {
      for (const resolve of this.warmWaiters) resolve(true);
    }
    this.advance(revision);
  }

  private applyEvents(events: IEvent[]): void {
    const changes: ChangeEvent[] = [];
    let highest = this.seenRevision;
    for (const event of events) {
      const modRevision = Number(event.kv.mod_revision);
      // Already reflected (by the list or an earlier response).
      if (modRevision <= this.seenRevision) continue;
      highest = Math.max(highest, modRevision);
      const change = changeFromEvent(event);
      if (!change) continue;
      const key = resourceKey(change.kind, change.name);
      if (change.op === 'put' && change.document) {
        this.resources.set(key, {
          kind: change.kind,
          name: change.name,
          document: change.document,
          modRevision,
          createRevision: Number(event.kv.create_revision),
        });
        changes.push({ ...change, document: structuredClone(change.document) });
      } else {
        if (event.type === 'Put') this.opts.logger.warn({ key }, 'a value in etcd is not a resource document; treating it as deleted');
        this.resources.delete(key);
        changes.push(change);
      }
    }
    this.seenRevision = highest;
    if (changes.length > 0) this.emitChanges({ revision: highest, changes });
    this.advance(highest);
  }

  private advance(revision: number): void {
    if (revision > this.seenRevision) this.seenRevision = revision;
    for (const waiter of this.revisionWaiters) if (waiter.revision <= this.seenRevision) waiter.resolve(true);
  }

  private emitChanges(batch: ChangeBatch): void {
    emitToEach(this, 'changes', batch, this.opts.logger);
  }
}

// What turns `before` into `after`. Deletes carry the listing's revision: the
// real one is gone with the compacted history.
function differences(before: Map<string, StoredResource>, after: Map<string, StoredResource>, revision: number): ChangeEvent[] {
  const changes: ChangeEvent[] = [];
  for (const [key, r] of after) {
    if (before.get(key)?.modRevision !== r.modRevision) {
      changes.push({ op: 'put', kind: r.kind, name: r.name, document: structuredClone(r.document), modRevision: r.modRevision });
    }
  }
  for (const [key, r] of before) {
    if (!after.has(key)) changes.push({ op: 'delete', kind: r.kind, name: r.name, modRevision: revision });
  }
  return changes.sort((a, b) => a.modRevision - b.modRevision || compareResources(a, b));
}
