// Peak-sensitive exponentially weighted moving average of latency (as in
// Finagle and linkerd's PeakEwma): a slower sample is taken at once, faster
// ones pull the average down with a weight that depends on the time since the
// last sample. Read, the estimate decays towards zero with the time since its
// last update, so an endpoint that was avoided (slow, or failing: a failure
// counts as a FAILURE_PENALTY_MS sample) is tried again after a while instead
// of being shunned for ever.
export const FAILURE_PENALTY_MS = 1_000;

export class PeakEwma {
  private value: number;
  private stamp = 0;
  private observed = false;

  constructor(
    initialMs: number,
    private readonly decayMs = 10_000,
  ) {
    this.value = initialMs;
  }

  observe(latencyMs: number, now: number): void {
    const current = this.get(now);
    if (latencyMs > current) {
      this.value = latencyMs;
    } else {
      const w = Math.exp(-Math.max(0, now - this.stamp) / this.decayMs);
      this.value = this.value * w + latencyMs * (1 - w);
    }
    this.stamp = now;
    this.observed = true;
  }

  get(now: number): number {
    const elapsed = now - this.stamp;
    if (elapsed <= 0 || !this.observed) return this.value;
    return this.value * Math.exp(-elapsed / this.decayMs);
  }
}
