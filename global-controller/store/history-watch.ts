// One subscriber's view of the change history: every ChangeBatch after a
// revision, historical then live, until closed. When etcd no longer has that
// history (compacted), or the revision is ahead of etcd, onCompacted() is
// called once and the watch ends: the subscriber then needs a full snapshot.
import type { IEvent, Namespace } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import { changeFromEvent } from './resource-codec';
import { ResumableWatch } from './resumable-watch';
import { retryDelayMs } from './retry-backoff';
import type { ChangeBatch, ChangeEvent } from './types';

export interface HistoryWatchOptions {
  namespace: Namespace;
  logger: Logger;
  connectTimeoutMs: number;
  fromRevisionExclusive: number;
  // A revision etcd is known to have reached (the cache's): from at or below
  // it, there is no need to ask etcd whether `from` lies in the future.
  knownRevision: () => number;
  // etcd's current revision; throws while etcd is unreachable.
  readCurrentRevision: () => Promise<number>;
  onBatch: (batch: ChangeBatch) => void;
  onCompacted: () => void;
}

export class HistoryWatch {
  private watch: ResumableWatch | undefined;
  private closed = false;
  private ended = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;

  constructor(private readonly opts: HistoryWatchOptions) {}

  start(): void {
    void this.begin().catch((err: unknown) => this.opts.logger.error({ err }, 'history watch failed to start'));
  }

  // Never rejects.
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    await this.watch?.close();
    this.watch = undefined;
  }

  private async begin(): Promise<void> {
    const from = this.opts.fromRevisionExclusive;
    if (from > this.opts.knownRevision()) {
      const current = await this.currentRevision();
      if (current === undefined) return; // closed meanwhile
      if (from > current) {
        this.end(`revision ${from} is ahead of etcd (at ${current})`);
        return;
      }
    }
    if (this.closed) return;
    this.watch = new ResumableWatch(
      { namespace: this.opts.namespace, startRevision: from + 1, connectTimeoutMs: this.opts.connectTimeoutMs, logger: this.opts.logger },
      {
        onEvents: (events) => this.deliver(events),
        onHistoryLost: (err) => {
          this.watch = undefined;
          this.end(err.message);
        },
      },
    );
    this.watch.start();
  }

  // etcd's current revision, retried while etcd is away; undefined once closed.
  private async currentRevision(): Promise<number | undefined> {
    for (let failures = 1; !this.closed; failures++) {
      try {
        return await this.opts.readCurrentRevision();
      } catch (err) {
        if (failures === 1) this.opts.logger.warn({ err: (err as Error).message }, 'history watch waits for etcd');
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, retryDelayMs(failures));
        });
      }
    }
    return undefined;
  }

  private deliver(events: IEvent[]): void {
    if (this.closed || this.ended) return;
    const changes: ChangeEvent[] = [];
    let revision = 0;
    for (const event of events) {
      revision = Math.max(revision, Number(event.kv.mod_revision));
      const change = changeFromEvent(event);
      if (change) changes.push(change);
    }
    if (changes.length > 0) this.opts.onBatch({ revision, changes });
  }

  private end(reason: string): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.opts.logger.info({ fromRevision: this.opts.fromRevisionExclusive, reason }, 'history watch cannot replay; subscriber needs a snapshot');
    try {
      this.opts.onCompacted();
    } catch (err) {
      this.opts.logger.error({ err }, 'onCompacted handler threw');
    }
  }
}
