// A steady stream of GETs at a fixed rate, spread over several edges, with
// undici keep-alive pools; bounded in count and in time, and in how many may
// be outstanding at once (a tick that finds the limit reached sends nothing
// and counts the requests as not sent). Counts every answer per sampling
// interval, and keeps the first failures for the report.
import { Pool } from 'undici';

export interface LoadTarget {
  name: string;
  origin: string;
  host: string;
}

export interface LoadInterval {
  // Seconds since the load started, at the end of the interval.
  s: number;
  sent: number;
  ok: number;
  failed: number;
}

export interface LoadTotals {
  sent: number;
  ok: number;
  failed: number;
  notSent: number;
  byRegion: Record<string, number>;
  failures: { s: number; target: string; error: string }[];
  latencyMs: number[];
}

const TICK_MS = 50;
const MAX_OUTSTANDING = 256;
const KEEP_FAILURES = 50;
// Latencies kept for percentiles: one in LATENCY_SAMPLE answers.
const LATENCY_SAMPLE = 10;

export class SteadyLoad {
  totals: LoadTotals = { sent: 0, ok: 0, failed: 0, notSent: 0, byRegion: {}, failures: [], latencyMs: [] };
  readonly intervals: LoadInterval[] = [];
  private readonly pools: Pool[];
  private current = { sent: 0, ok: 0, failed: 0 };
  private outstanding = 0;
  private t0 = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  // Bumped by resetTotals: an answer counts where its request was counted.
  private epoch = 0;

  constructor(
    private readonly targets: LoadTarget[],
    private readonly rate: number,
    private readonly maxCount: number,
    private readonly maxMs: number,
    private readonly timeoutMs = 5000,
  ) {
    this.pools = targets.map((t) => new Pool(t.origin, { connections: 8, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }));
  }

  private async one(i: number): Promise<void> {
    const target = this.targets[i]!;
    const t = Date.now();
    const epoch = this.epoch;
    const totals = this.totals;
    this.outstanding++;
    this.current.sent++;
    totals.sent++;
    try {
      const res = await this.pools[i]!.request({ path: '/', method: 'GET', headers: { host: target.host }, signal: AbortSignal.timeout(this.timeoutMs) });
      const body = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} ${body.slice(0, 120)}`);
      const region = String(res.headers['x-meridian-region'] ?? '?');
      totals.byRegion[region] = (totals.byRegion[region] ?? 0) + 1;
      if (epoch === this.epoch) this.current.ok++;
      totals.ok++;
      if (totals.ok % LATENCY_SAMPLE === 0) totals.latencyMs.push(Date.now() - t);
    } catch (err) {
      if (epoch === this.epoch) this.current.failed++;
      totals.failed++;
      const e = err as { code?: string; message: string };
      if (totals.failures.length < KEEP_FAILURES) totals.failures.push({ s: Math.round((Date.now() - this.t0) / 100) / 10, target: target.name, error: e.code ? `${e.code} ${e.message}` : e.message });
    } finally {
      this.outstanding--;
    }
  }

  // Starts; the promise ends when the count or the time is used up and every
  // request has its answer.
  start(): Promise<void> {
    this.t0 = Date.now();
    let due = 0;
    let next = 0;
    return new Promise((resolve) => {
      const tick = () => {
        const elapsed = Date.now() - this.t0;
        if (this.stopped || elapsed >= this.maxMs || due >= this.maxCount) {
          clearInterval(this.timer);
          const drain = setInterval(() => {
            if (this.outstanding === 0) {
              clearInterval(drain);
              resolve();
            }
          }, 20);
          return;
        }
        // As many as the rate says are due by now (catches up on a late tick).
        const target = Math.min(this.maxCount, Math.floor((elapsed / 1000) * this.rate));
        while (due < target) {
          due++;
          if (this.outstanding >= MAX_OUTSTANDING) {
            this.totals.notSent++;
            continue;
          }
          void this.one(next);
          next = (next + 1) % this.targets.length;
        }
      };
      this.timer = setInterval(tick, TICK_MS);
    });
  }

  // The totals so far (the warm-up's), and counting starts again from zero.
  resetTotals(): LoadTotals {
    const before = this.totals;
    this.totals = { sent: 0, ok: 0, failed: 0, notSent: 0, byRegion: {}, failures: [], latencyMs: [] };
    this.epoch++;
    return before;
  }

  // Closes the current sampling interval.
  mark(): LoadInterval {
    const interval = { s: Math.round((Date.now() - this.t0) / 100) / 10, ...this.current };
    this.intervals.push(interval);
    this.current = { sent: 0, ok: 0, failed: 0 };
    return interval;
  }

  // Ends early (Ctrl-C): no new requests; start()'s promise ends once the
  // outstanding ones have their answers.
  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}
