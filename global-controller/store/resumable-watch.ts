// A watch over a whole etcd namespace from a start revision that survives etcd
// going away: after a disconnect it resumes from the revision after the last
// event it delivered, so nothing is skipped and nothing is delivered twice.
//
// Why not etcd3's own reconnect: its Watcher resumes from the last *header*
// revision it saw, and etcd puts the current revision in the header of the
// create response and of historical batches, before the events up to that
// revision have arrived; a disconnect in that window would silently skip
// them. So on 'disconnected' the etcd3 watcher is dropped and a new one is
// created from our own revision, with our own (short, capped) backoff.
import type { IEvent, IWatchResponse, Namespace, Watcher } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import { CompactedError } from './errors';
import { retryDelayMs } from './retry-backoff';

export interface ResumableWatchHandlers {
  // The events of one watch response, in revision order.
  onEvents(events: IEvent[]): void;
  // etcd reports that everything up to this revision has been delivered.
  onProgress?(revision: number): void;
  // etcd refuses to continue from our revision (history compacted); the watch has ended.
  onHistoryLost(error: CompactedError): void;
}

export interface ResumableWatchOptions {
  // Watches every key of this namespace; event keys are relative to it.
  namespace: Namespace;
  startRevision: number;
  // A watcher that etcd has not accepted within this is treated as disconnected.
  connectTimeoutMs: number;
  logger: Logger;
}

export class ResumableWatch {
  private next: number;
  private current: Watcher | undefined;
  private isConnected = false;
  private failures = 0;
  private ended = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: ResumableWatchOptions,
    private readonly handlers: ResumableWatchHandlers,
  ) {
    this.next = opts.startRevision;
  }

  // The revision the watch continues from.
  get nextRevision(): number {
    return this.next;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  start(): void {
    if (!this.current && !this.retryTimer) this.connect();
  }

  // Never rejects, and returns within connectTimeoutMs even when etcd is away.
  async close(): Promise<void> {
    this.ended = true;
    this.clearTimers();
    const watcher = this.drop();
    if (watcher) await cancelWithin(watcher, this.opts.connectTimeoutMs);
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.ended) return;
    const watcher = this.opts.namespace.watch().prefix('').startRevision(String(this.next)).watcher();
    this.current = watcher;
    const isCurrent = (): boolean => this.current === watcher;
    // A listener for 'error' must always be there, also on dropped watchers:
    // etcd3 emits it from inside its stream handler, where a throw is fatal.
    watcher.on('error', (err) => {
      if (isCurrent()) this.onCanceledByEtcd(err);
    });
    watcher.on('disconnected', (err) => {
      if (isCurrent()) this.onDisconnected(err);
    });
    watcher.on('connected', () => {
      if (isCurrent()) this.onConnected();
    });
    watcher.on('data', (res) => {
      if (isCurrent()) this.onData(res);
    });
    this.connectTimer = setTimeout(() => {
      if (isCurrent()) this.onDisconnected(new Error(`etcd did not accept the watch within ${this.opts.connectTimeoutMs} ms`));
    }, this.opts.connectTimeoutMs);
  }

  private onConnected(): void {
    clearTimeout(this.connectTimer);
    this.isConnected = true;
    if (this.failures > 0) this.opts.logger.info({ fromRevision: this.next }, 'etcd watch resumed');
    this.failures = 0;
  }

  private onData(res: IWatchResponse): void {
    if (res.events.length === 0) {
      // A progress notification: etcd sends these only to watchers that are caught up.
      const revision = Number(res.header.revision);
      if (revision >= this.next) {
        this.next = revision + 1;
        this.call(() => this.handlers.onProgress?.(revision));
      }
      return;
    }
    // Not the header revision: for historical batches it runs ahead of the events.
    let highest = 0;
    for (const event of res.events) highest = Math.max(highest, Number(event.kv.mod_revision));
    this.next = Math.max(this.next, highest + 1);
    this.call(() => this.handlers.onEvents(res.events));
  }

  private onDisconnected(err: Error): void {
    clearTimeout(this.connectTimer);
    const watcher = this.drop();
    if (watcher) void cancelWithin(watcher, this.opts.connectTimeoutMs);
    this.failures += 1;
    const delayMs = retryDelayMs(this.failures);
    const fields = { err: err.message, fromRevision: this.next, retryInMs: delayMs, failures: this.failures };
    // One warning per outage, not one per attempt.
    if (this.failures === 1) this.opts.logger.warn(fields, 'etcd watch disconnected; resuming when etcd is back');
    else this.opts.logger.debug(fields, 'etcd watch still disconnected');
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }

  // etcd cancels a watch on its own when the start revision has been
  // compacted (etcd3 reports it as "Watcher canceled: " with no reason).
  private onCanceledByEtcd(err: Error): void {
    this.ended = true;
    this.clearTimers();
    this.drop();
    const compacted = /canceled:\s*$/.test(err.message);
    const detail = compacted ? 'etcd has compacted that history' : `etcd canceled the watch (${err.message})`;
    this.opts.logger.warn({ fromRevision: this.next, err: err.message }, 'etcd watch ended by etcd; history lost');
    this.call(() => this.handlers.onHistoryLost(new CompactedError(this.next - 1, detail)));
  }

  private drop(): Watcher | undefined {
    const watcher = this.current;
    this.current = undefined;
    this.isConnected = false;
    return watcher;
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    this.retryTimer = undefined;
  }

  // A throwing handler is a bug in the caller; it must not break the watch.
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ err }, 'etcd watch handler failed');
    }
  }
}

// Cancels an etcd3 watcher without ever rejecting or hanging: etcd3 waits for
// etcd to confirm the cancel, which never comes while etcd is away (the
// watcher is then forgotten when etcd3 next rebuilds its stream).
async function cancelWithin(watcher: Watcher, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([watcher.cancel(), timeout]);
  } catch {
    // etcd3 throws when its stream changed state under the cancel: the watcher is gone either way.
  } finally {
    clearTimeout(timer);
  }
}
