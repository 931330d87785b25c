// One instance as the balancer sees it: its dispatcher (a connection pool), its
// weight, the requests outstanding on it, its latency EWMA and its passive
// health (consecutive failures, ejection). Kept from one view to the next
// while the instance stays, so what was learned about it survives updates.
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { PeakEwma } from './ewma';

// A new endpoint is assumed this slow until it answers: a little worse than
// a healthy local instance, so it gets traffic but does not take it all.
export const DEFAULT_EWMA_MS = 5;

export class Endpoint {
  outstanding = 0;
  consecutiveFailures = 0;
  // performance.now() until which the endpoint is ejected; 0 when it is not.
  ejectedUntil = 0;
  // How many times it was ejected (the ejection time doubles with each).
  ejections = 0;
  lastEjectionEnd = 0;
  readonly ewma: PeakEwma;
  private pool: UpstreamDispatcher | undefined;
  private closed = false;

  constructor(
    // address:port
    readonly key: string,
    readonly id: string,
    readonly address: string,
    readonly port: number,
    public weight: number,
    // Opens the connection pool. Called on the first request, not before: a
    // proxy that knows thousands of instances (a region with thousands of
    // services) pays only for the pools of those it talks to.
    private readonly openDispatcher: () => UpstreamDispatcher,
    initialEwmaMs = DEFAULT_EWMA_MS,
  ) {
    this.ewma = new PeakEwma(initialEwmaMs);
  }

  get dispatcher(): UpstreamDispatcher {
    return (this.pool ??= this.open());
  }

  get opened(): boolean {
    return this.pool !== undefined;
  }

  // Closes the pool, if one was opened. A try that still holds this endpoint
  // (picked before a view removed it) gets a closed pool, which refuses it
  // without sending anything (UND_ERR_CLOSED, retried as a connect failure),
  // rather than a new pool nobody would close.
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }

  private open(): UpstreamDispatcher {
    const pool = this.openDispatcher();
    if (this.closed) void pool.close().catch(() => undefined);
    return pool;
  }

  // Lower is better: (outstanding + 1) * latency, divided by the weight.
  score(now: number): number {
    return ((this.outstanding + 1) * this.ewma.get(now)) / this.weight;
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }
}
