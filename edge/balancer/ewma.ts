// Peak-sensitive exponentially weighted moving average of latency (as in
// Finagle and linkerd): a slower sample is taken at once, faster ones pull the
// average down with a weight that decays with the time since the last sample,
// so an endpoint that turns slow is avoided immediately and one that recovers
// earns traffic back over about one decay period.
export class PeakEwma {
  private value: number;
  private stamp: number;

  constructor(
    initialMs: number,
    private readonly decayMs = 10_000,
  ) {
    this.value = initialMs;
    this.stamp = 0;
  }

  observe(latencyMs: number, now: number): void {
    if (latencyMs > this.value) {
      this.value = latencyMs;
    } else {
      const elapsed = Math.max(0, now - this.stamp);
      const w = Math.exp(-elapsed / this.decayMs);
      this.value = this.value * w + latencyMs * (1 - w);
    }
    this.stamp = now;
  }

  get(): number {
    return this.value;
  }
}
