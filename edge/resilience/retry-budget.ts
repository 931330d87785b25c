// Retries allowed as a share of requests over a sliding window (ten one-second
// buckets), plus a small minimum so a quiet service can still retry: a storm
// of failures cannot multiply the load on what is already failing. Retries
// of connect failures do not go through it (request/attempt-loop.ts planRetry):
// nothing was sent, so they multiply nothing.
const BUCKETS = 10;
const BUCKET_MS = 1_000;

export class RetryBudget {
  private readonly requests = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  private totalRequests = 0;
  private totalRetries = 0;
  // Index (time / BUCKET_MS) of the newest bucket.
  private head = -1;

  constructor(
    public percent = 20,
    // Retries allowed per window whatever the traffic.
    public minPerWindow = 10,
  ) {}

  onRequest(now: number): void {
    const i = this.advance(now);
    this.requests[i]++;
    this.totalRequests++;
  }

  // Is there a retry left in the budget?
  canRetry(now: number): boolean {
    this.advance(now);
    return this.totalRetries + 1 <= (this.totalRequests * this.percent) / 100 + this.minPerWindow;
  }

  // Takes one (after canRetry said yes and the retry is certain to go out).
  takeRetry(now: number): void {
    const i = this.advance(now);
    this.retries[i]++;
    this.totalRetries++;
  }

  // Both at once.
  tryRetry(now: number): boolean {
    if (!this.canRetry(now)) return false;
    this.takeRetry(now);
    return true;
  }

  private advance(now: number): number {
    const tick = Math.floor(now / BUCKET_MS);
    if (tick !== this.head) {
      const steps = this.head < 0 ? BUCKETS : Math.min(BUCKETS, tick - this.head);
      for (let s = 1; s <= steps; s++) {
        const j = (this.head + s) % BUCKETS;
        const k = j < 0 ? j + BUCKETS : j;
        this.totalRequests -= this.requests[k];
        this.totalRetries -= this.retries[k];
        this.requests[k] = 0;
        this.retries[k] = 0;
      }
      this.head = tick;
    }
    return tick % BUCKETS;
  }
}
