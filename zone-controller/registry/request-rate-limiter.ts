// Requests per second per credential (an instance token's id, or the
// loopback caller) for the registry API: a token bucket per credential,
// refilled at `ratePerSecond` up to `burst`. Time comes from `now` so the
// buckets can be driven by a test clock.
export interface RateDecision {
  ok: boolean;
  // When refused: whole seconds until one request would be taken (>= 1).
  retryAfterSeconds: number;
}

// Above this many credentials, buckets that have refilled (the same as a new
// one) are dropped: the map holds only callers that are spending.
const PRUNE_ABOVE = 10_000;

export class RequestRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(credential: string): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(credential);
    if (bucket === undefined) {
      if (this.buckets.size >= PRUNE_ABOVE) this.prune(now);
      bucket = { tokens: this.burst, atMs: now };
      this.buckets.set(credential, bucket);
    } else {
      bucket.tokens = this.refilled(bucket, now);
      bucket.atMs = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0 };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: { tokens: number; atMs: number }, now: number): number {
    return Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.atMs) / 1000) * this.ratePerSecond);
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (this.refilled(bucket, now) >= this.burst) this.buckets.delete(key);
  }
}
