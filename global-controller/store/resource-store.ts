// The resource store of the global controller, on etcd. Writes go to etcd
// (one transaction each, optimistic concurrency on mod revisions); reads come
// from the in-memory cache once it is warm, so they keep answering while etcd
// is away; subscribers get the change history from etcd itself (watchFrom).
// Kind-agnostic: the API layer validates documents before they get here.
import { EventEmitter } from 'node:events';
import type { CallOptions } from '@grpc/grpc-js';
import type { Etcd3, IKeyValue, ITxnResponse, Namespace } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import { AlreadyExistsError, ConflictError, DuplicateDocumentError, NotFoundError, StoreUnavailableError } from './errors';
import { callEtcd } from './etcd-call';
import { emitToEach } from './emit-to-each';
import { HistoryWatch } from './history-watch';
import { ResourceCache } from './resource-cache';
import {
  compareResources,
  decodeDocument,
  decodeKeyValue,
  decodeResource,
  DEFAULT_PREFIX,
  encodeDocument,
  parseResourceKey,
  resourceKey,
} from './resource-codec';
import type { ApplyAction, ApplyResult, ChangeBatch, StoredDocument, StoredResource } from './types';

export type { ApplyAction, ApplyResult, ChangeBatch, ChangeEvent, StoredDocument, StoredResource } from './types';

export interface ResourceStoreOptions {
  etcd: Etcd3;
  logger: Logger;
  // Default '/meridian/resources/'.
  prefix?: string;
  // Deadline of every etcd call; a write fails with StoreUnavailableError within about this. Default 2000.
  callTimeoutMs?: number;
}

// etcd's default --max-txn-ops: one apply is one transaction.
export const MAX_DOCUMENTS_PER_APPLY = 128;
// A concurrent writer makes the transaction fail; read again and retry this many times.
const APPLY_ATTEMPTS = 5;
// After a write, how long to wait for the cache to show it.
const CATCH_UP_MS = 2000;

interface KeyRead {
  revision: number;
  // By key; absent keys are missing.
  kvs: Map<string, IKeyValue>;
}

interface PlannedWrite {
  kind: string;
  name: string;
  key: string;
  value: string;
}

export class ResourceStore extends EventEmitter {
  private readonly ns: Namespace;
  private readonly cache: ResourceCache;
  private readonly logger: Logger;
  private readonly callTimeoutMs: number;
  private readonly subscriptions = new Set<HistoryWatch>();
  private started = false;
  private stopped = false;

  constructor(opts: ResourceStoreOptions) {
    super();
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.ns = opts.etcd.namespace(prefix.endsWith('/') ? prefix : `${prefix}/`);
    this.logger = opts.logger.child({ component: 'resource-store' });
    this.callTimeoutMs = opts.callTimeoutMs ?? 2000;
    this.cache = new ResourceCache({ namespace: this.ns, logger: this.logger, callTimeoutMs: this.callTimeoutMs });
    this.cache.on('changes', (batch: ChangeBatch) => emitToEach(this, 'changes', batch, this.logger));
  }

  // Begins list + watch in the background; retries while etcd is down. Never throws.
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.cache.start();
  }

  // Resolves once the cache is warm; without a timeout, waits as long as it takes.
  async ready(timeoutMs?: number): Promise<void> {
    if (await this.cache.whenWarm(timeoutMs)) return;
    const detail = this.stopped ? 'the store was stopped' : `the resource cache did not load from etcd within ${timeoutMs} ms`;
    throw new StoreUnavailableError('load the resources', detail);
  }

  get warm(): boolean {
    return this.cache.warm;
  }

  // Highest etcd revision the cache has seen (0 until warm).
  get revision(): number {
    return this.cache.revision;
  }

  // Closes every watcher the store created (the cache's and watchFrom's); the etcd client stays open.
  async stop(): Promise<void> {
    this.stopped = true;
    const subscriptions = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all([...subscriptions.map((s) => s.close()), this.cache.stop()]);
  }

  // ---- writes ----

  // All or nothing, in one etcd transaction. Documents identical to what is
  // stored are 'unchanged' and not rewritten; `expected` (Kind/name -> mod
  // revision, 0 = must not exist) turns any mismatch into a ConflictError.
  async apply(docs: StoredDocument[], expected: Map<string, number> = new Map()): Promise<ApplyResult> {
    const writes = planWrites(docs);
    const keys = [...new Set([...writes.map((w) => w.key), ...expected.keys()])];
    if (keys.length === 0) return { revision: await this.readCurrentRevision(), results: [] };
    if (keys.length > MAX_DOCUMENTS_PER_APPLY) {
      throw new RangeError(`one apply takes at most ${MAX_DOCUMENTS_PER_APPLY} documents (it is one etcd transaction); got ${keys.length}`);
    }
    let read = await this.readKeys(keys);
    for (let attempt = 1; ; attempt++) {
      for (const [key, want] of expected) {
        const have = modRevisionOf(read.kvs.get(key));
        if (have !== want) throw conflict(key, want, have);
      }
      const results = writes.map((w) => ({ kind: w.kind, name: w.name, action: actionFor(w, read.kvs.get(w.key)) }));
      const changed = writes.filter((_, i) => results[i].action !== 'unchanged');
      if (changed.length === 0) {
        // Nothing to write; still let a following read see what was compared against.
        await this.catchUp(Math.max(0, ...[...read.kvs.values()].map(modRevisionOf)));
        return { revision: read.revision, results };
      }
      const res = await this.call('apply resources', (options) =>
        this.compareAll(keys, read)
          .then(...changed.map((w) => this.ns.put(w.key).value(w.value)))
          .else(...keys.map((key) => this.ns.get(key)))
          .options(options)
          .commit(),
      );
      if (res.succeeded) {
        const revision = Number(res.header.revision);
        this.logger.info({ revision, changed: changed.map((w) => w.key) }, 'resources applied');
        await this.catchUp(revision);
        return { revision, results };
      }
      // Someone wrote one of these keys since our read: the failure branch read them again.
      const fresh = keyReadFrom(res, keys);
      if (attempt === APPLY_ATTEMPTS) {
        const moved = keys.find((key) => modRevisionOf(read.kvs.get(key)) !== modRevisionOf(fresh.kvs.get(key))) ?? keys[0];
        throw conflict(moved, modRevisionOf(read.kvs.get(moved)), modRevisionOf(fresh.kvs.get(moved)));
      }
      this.logger.debug({ attempt }, 'apply raced with another writer; retrying on a fresh read');
      read = fresh;
    }
  }

  async create(doc: StoredDocument): Promise<StoredResource> {
    const [w] = planWrites([doc]);
    const res = await this.call(`create ${w.key}`, (options) =>
      this.ns.if(w.key, 'Mod', '==', 0).then(this.ns.put(w.key).value(w.value)).else(this.ns.get(w.key)).options(options).commit(),
    );
    if (!res.succeeded) throw new AlreadyExistsError(w.kind, w.name, modRevisionOf(firstKv(res, 0)));
    const revision = Number(res.header.revision);
    await this.catchUp(revision);
    return storedResourceOf(w, revision, revision);
  }

  async update(doc: StoredDocument, expectedModRevision: number): Promise<StoredResource> {
    const [w] = planWrites([doc]);
    const res = await this.call(`update ${w.key}`, (options) =>
      this.ns
        .if(w.key, 'Mod', '==', expectedModRevision)
        .and(w.key, 'Create', '>', 0)
        .then(this.ns.put(w.key).value(w.value), this.ns.get(w.key))
        .else(this.ns.get(w.key))
        .options(options)
        .commit(),
    );
    if (!res.succeeded) {
      const current = firstKv(res, 0);
      if (!current) throw new NotFoundError(w.kind, w.name);
      throw new ConflictError(w.kind, w.name, expectedModRevision, modRevisionOf(current));
    }
    const revision = Number(res.header.revision);
    await this.catchUp(revision);
    // The get after the put, in the same transaction, tells the create revision.
    return storedResourceOf(w, revision, Number(firstKv(res, 1)?.create_revision ?? revision));
  }

  async delete(kind: string, name: string, expectedModRevision?: number): Promise<{ revision: number }> {
    const key = resourceKey(kind, name);
    let revision: number;
    if (expectedModRevision === undefined) {
      const res = await this.call(`delete ${key}`, (options) => this.ns.delete().key(key).options(options).exec());
      if (Number(res.deleted) === 0) throw new NotFoundError(kind, name);
      revision = Number(res.header.revision);
    } else {
      const res = await this.call(`delete ${key}`, (options) =>
        this.ns.if(key, 'Mod', '==', expectedModRevision).then(this.ns.delete().key(key)).else(this.ns.get(key)).options(options).commit(),
      );
      if (!res.succeeded) {
        const current = firstKv(res, 0);
        if (!current) throw new NotFoundError(kind, name);
        throw new ConflictError(kind, name, expectedModRevision, modRevisionOf(current));
      }
      if (Number(res.responses[0].response_delete_range.deleted) === 0) throw new NotFoundError(kind, name);
      revision = Number(res.header.revision);
    }
    this.logger.info({ revision, key }, 'resource deleted');
    await this.catchUp(revision);
    return { revision };
  }

  // ---- reads: the warm cache, else etcd, else StoreUnavailableError ----

  async get(kind: string, name: string): Promise<StoredResource | undefined> {
    if (this.cache.warm) return this.cache.get(kind, name);
    const res = await this.call(`read ${kind}/${name}`, (options) => this.ns.get(resourceKey(kind, name)).options(options).exec());
    return res.kvs[0] && decodeResource(kind, name, res.kvs[0]);
  }

  // Sorted by kind, then name.
  async list(kind?: string): Promise<StoredResource[]> {
    if (this.cache.warm) return this.cache.list(kind);
    const res = await this.call(kind ? `list ${kind} resources` : 'list resources', (options) =>
      this.ns
        .getAll()
        .prefix(kind ? `${kind}/` : '')
        .options(options)
        .exec(),
    );
    const out: StoredResource[] = [];
    for (const kv of res.kvs) {
      const r = decodeKeyValue(kv);
      if (r) out.push(r);
    }
    return out.sort(compareResources);
  }

  // Everything at one revision, from the warm cache: the cached records, not
  // copies (read-only to the caller).
  snapshot(): { revision: number; resources: readonly Readonly<StoredResource>[] } {
    if (!this.cache.warm) throw new StoreUnavailableError('take a snapshot', 'the resource cache has not loaded from etcd yet');
    return { revision: this.cache.revision, resources: this.cache.listShared() };
  }

  // ---- history ----

  // Every ChangeBatch after `fromRevisionExclusive`, historical then live,
  // until closed; onCompacted() once, ending the watch, when etcd no longer has
  // that history or the revision is ahead of etcd. One batch per etcd watch
  // response: a historical batch may span several revisions.
  watchFrom(fromRevisionExclusive: number, onBatch: (b: ChangeBatch) => void, onCompacted: () => void): { close(): Promise<void> } {
    const subscription = new HistoryWatch({
      namespace: this.ns,
      logger: this.logger.child({ watchFrom: fromRevisionExclusive }),
      connectTimeoutMs: this.callTimeoutMs,
      fromRevisionExclusive,
      knownRevision: () => this.cache.revision,
      readCurrentRevision: () => this.readCurrentRevision(),
      onBatch,
      onCompacted,
    });
    if (this.stopped) {
      return { close: () => Promise.resolve() };
    }
    this.subscriptions.add(subscription);
    subscription.start();
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  // ---- etcd plumbing ----

  private call<T>(operation: string, fn: (options: CallOptions) => Promise<T>): Promise<T> {
    return callEtcd(operation, this.callTimeoutMs, fn);
  }

  private async readCurrentRevision(): Promise<number> {
    const res = await this.call('read the current revision', (options) => this.ns.get('').options(options).exec());
    return Number(res.header.revision);
  }

  // The keys, all at one revision (one transaction of reads).
  private async readKeys(keys: string[]): Promise<KeyRead> {
    const res = await this.call('read resources', async (options) =>
      this.ns.kv.txn({ compare: [], success: await Promise.all(keys.map((key) => this.ns.get(key).op())), failure: [] }, options),
    );
    return keyReadFrom(res, keys);
  }

  // Every key still at the mod revision it was read at (0: still absent).
  private compareAll(keys: string[], read: KeyRead) {
    const [first, ...rest] = keys;
    let txn = this.ns.if(first, 'Mod', '==', modRevisionOf(read.kvs.get(first)));
    for (const key of rest) txn = txn.and(key, 'Mod', '==', modRevisionOf(read.kvs.get(key)));
    return txn;
  }

  // Bounded: a write must not hang on a cache that is behind or not running.
  private async catchUp(revision: number): Promise<void> {
    if (!this.started || this.stopped || revision <= this.cache.revision) return;
    if (!(await this.cache.waitForRevision(revision, CATCH_UP_MS))) {
      this.logger.warn({ revision, cacheRevision: this.cache.revision }, 'cache did not catch up with a write in time');
    }
  }
}

function planWrites(docs: StoredDocument[]): PlannedWrite[] {
  const seen = new Set<string>();
  return docs.map((doc) => {
    const kind = doc?.kind;
    const name = doc?.metadata?.name;
    if (typeof kind !== 'string' || kind === '' || kind.includes('/') || typeof name !== 'string' || name === '') {
      throw new TypeError(`a stored document needs a kind without '/' and a metadata.name (got kind ${JSON.stringify(kind)}, name ${JSON.stringify(name)})`);
    }
    const key = resourceKey(kind, name);
    if (seen.has(key)) throw new DuplicateDocumentError(kind, name);
    seen.add(key);
    return { kind, name, key, value: encodeDocument(doc) };
  });
}

function actionFor(write: PlannedWrite, stored: IKeyValue | undefined): ApplyAction {
  if (!stored) return 'created';
  const storedDoc = decodeDocument(stored.value, 0);
  return storedDoc && encodeDocument(storedDoc) === write.value ? 'unchanged' : 'updated';
}

function storedResourceOf(write: PlannedWrite, modRevision: number, createRevision: number): StoredResource {
  const document = JSON.parse(write.value) as StoredDocument;
  document.metadata.resourceVersion = String(modRevision);
  return { kind: write.kind, name: write.name, document, modRevision, createRevision };
}

function modRevisionOf(kv: IKeyValue | undefined): number {
  return kv ? Number(kv.mod_revision) : 0;
}

function firstKv(res: ITxnResponse, responseIndex: number): IKeyValue | undefined {
  return res.responses[responseIndex]?.response_range?.kvs[0];
}

// One range response per key, in order.
function keyReadFrom(res: ITxnResponse, keys: string[]): KeyRead {
  const kvs = new Map<string, IKeyValue>();
  keys.forEach((key, i) => {
    const kv = firstKv(res, i);
    if (kv) kvs.set(key, kv);
  });
  return { revision: Number(res.header.revision), kvs };
}

function conflict(key: string, expected: number, actual: number): ConflictError {
  const id = parseResourceKey(key) ?? { kind: key, name: '' };
  return new ConflictError(id.kind, id.name, expected, actual);
}
