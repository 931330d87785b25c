// Request rate, error rate and p99 over the last ~10 s, from the counters
// the edge keeps anyway (edge-metrics.ts): once a second the cumulative
// totals are read and kept in a small ring, and the figures are differences
// between the newest and the oldest entry. Nothing is added to the request
// path; the cost is one read of the counters per second.
import type { EdgeMetrics } from '../observability/edge-metrics';

export interface TrafficFigures {
  // Requests per second.
  requestRate: number;
  // Share of answers that were 5xx, 0..1.
  errorRate: number;
  p99Ms: number;
}

interface Sample {
  atMs: number;
  requests: number;
  errors: number;
  // Cumulative histogram counts by upper bound in seconds (Infinity last).
  buckets: Map<number, number>;
}

export class TrafficWindow {
  private readonly ring: Sample[] = [];

  constructor(
    private readonly metrics: EdgeMetrics,
    // Samples kept: the window is (size - 1) seconds at one sample a second.
    private readonly size = 11,
  ) {}

  async sample(now = Date.now()): Promise<void> {
    const [requests, duration] = await Promise.all([this.metrics.requests.get(), this.metrics.duration.get()]);
    let total = 0;
    let errors = 0;
    for (const v of requests.values) {
      total += v.value;
      if (v.labels.status_class === '5xx') errors += v.value;
    }
    const buckets = new Map<number, number>();
    for (const v of duration.values) {
      if (!v.metricName?.endsWith('_bucket')) continue;
      const raw = (v.labels as Record<string, string | number | undefined>).le;
      const le = raw === '+Inf' ? Infinity : Number(raw);
      buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    }
    this.ring.push({ atMs: now, requests: total, errors, buckets });
    if (this.ring.length > this.size) this.ring.shift();
  }

  figures(): TrafficFigures {
    const first = this.ring[0];
    const last = this.ring[this.ring.length - 1];
    if (first === undefined || last === undefined || last === first) return { requestRate: 0, errorRate: 0, p99Ms: 0 };
    const seconds = (last.atMs - first.atMs) / 1000;
    const requests = last.requests - first.requests;
    const errors = last.errors - first.errors;
    return {
      requestRate: seconds > 0 ? requests / seconds : 0,
      errorRate: requests > 0 ? errors / requests : 0,
      p99Ms: quantileMs(first.buckets, last.buckets, 0.99),
    };
  }
}

// The q-quantile of the observations between two cumulative histograms,
// interpolated linearly inside its bucket (as Prometheus' histogram_quantile).
export function quantileMs(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const count = delta(Infinity);
  if (bounds.length === 0 || count <= 0) return 0;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const upto = delta(le);
    if (upto >= rank) {
      // Above the largest finite bound: that bound is all that is known.
      if (le === Infinity) return lower * 1000;
      const inBucket = upto - below;
      const at = inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le;
      return at * 1000;
    }
    lower = le;
    below = upto;
  }
  return lower * 1000;
}
