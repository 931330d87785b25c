// A weighted choice among backends (TrafficRoute split), precomputed as
// cumulative weights so a pick is one random number and a short scan.
export interface WeightedBackend {
  service: string;
  weight: number;
}

export class WeightedSplit {
  readonly services: readonly string[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(backends: readonly WeightedBackend[]) {
    const positive = backends.filter((b) => b.weight > 0);
    this.services = positive.map((b) => b.service);
    this.cumulative = new Float64Array(positive.length);
    let sum = 0;
    positive.forEach((b, i) => {
      sum += b.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  // random is in [0, 1).
  pick(random: number = Math.random()): string {
    const n = this.services.length;
    if (n === 1) return this.services[0];
    const x = random * this.total;
    for (let i = 0; i < n - 1; i++) if (x < this.cumulative[i]) return this.services[i];
    return this.services[n - 1];
  }
}
