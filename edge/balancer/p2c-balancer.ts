// Power of two choices over least outstanding requests weighted by latency:
// two endpoints are drawn at random (in proportion to their weights) and the
// one with the lower score, (outstanding + 1) * EWMA / weight, wins. Ejected
// endpoints and the ones a retry wants to avoid are skipped. The endpoint list
// and its cumulative weights are built when the view changes, not per pick.
import type { Endpoint } from './endpoint';
import { FAILURE_PENALTY_MS } from './ewma';
import { OutlierDetector } from './outlier-detector';

const DRAWS = 4;

export class P2CBalancer {
  private endpoints: Endpoint[] = [];
  private cumulative = new Float64Array(0);
  private totalWeight = 0;
  private uniform = true;
  private ejected = 0;
  // Earliest ejectedUntil among ejected endpoints (Infinity when none).
  private nextReturn = Infinity;

  constructor(readonly outlier: OutlierDetector = new OutlierDetector()) {}

  setEndpoints(endpoints: Endpoint[]): void {
    this.endpoints = endpoints;
    this.cumulative = new Float64Array(endpoints.length);
    let sum = 0;
    let uniform = true;
    for (let i = 0; i < endpoints.length; i++) {
      sum += endpoints[i].weight;
      this.cumulative[i] = sum;
      if (endpoints[i].weight !== endpoints[0].weight) uniform = false;
    }
    this.totalWeight = sum;
    this.uniform = uniform;
    this.recount(performance.now());
  }

  list(): readonly Endpoint[] {
    return this.endpoints;
  }

  size(): number {
    return this.endpoints.length;
  }

  // Endpoints not ejected right now.
  available(now: number): number {
    if (now >= this.nextReturn) this.recount(now);
    return this.endpoints.length - this.ejected;
  }

  // null when every endpoint is ejected or to be avoided.
  pick(now: number, avoid: readonly Endpoint[] | null): Endpoint | null {
    const n = this.endpoints.length;
    if (n === 0 || this.available(now) === 0) return null;
    if (n === 1) {
      const only = this.endpoints[0];
      return usable(only, now, avoid) ? only : null;
    }
    let a: Endpoint | null = null;
    let b: Endpoint | null = null;
    for (let i = 0; i < DRAWS && a === null; i++) {
      const e = this.draw();
      if (usable(e, now, avoid)) a = e;
    }
    for (let i = 0; i < DRAWS && b === null; i++) {
      const e = this.draw();
      if (e !== a && usable(e, now, avoid)) b = e;
    }
    if (a === null || b === null) return this.best(now, avoid, a ?? b);
    return a.score(now) <= b.score(now) ? a : b;
  }

  onSuccess(endpoint: Endpoint, latencyMs: number, now: number): void {
    endpoint.ewma.observe(latencyMs, now);
    this.outlier.onSuccess(endpoint);
  }

  // Returns the ejection time when this failure ejected the endpoint, else 0.
  onFailure(endpoint: Endpoint, now: number): number {
    // A failing endpoint often fails fast; without a penalty its low latency
    // would draw more traffic to it.
    endpoint.ewma.observe(FAILURE_PENALTY_MS, now);
    const ms = this.outlier.onFailure(endpoint, now, this.endpoints.length - this.available(now), this.endpoints.length);
    if (ms > 0 && this.endpoints.includes(endpoint)) {
      this.ejected++;
      if (endpoint.ejectedUntil < this.nextReturn) this.nextReturn = endpoint.ejectedUntil;
    }
    return ms;
  }

  private draw(): Endpoint {
    const n = this.endpoints.length;
    if (this.uniform) return this.endpoints[(Math.random() * n) | 0];
    const x = Math.random() * this.totalWeight;
    // Binary search for the first cumulative weight above x.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.endpoints[lo];
  }

  // Few usable endpoints: scan for the best one (and `seed`).
  private best(now: number, avoid: readonly Endpoint[] | null, seed: Endpoint | null): Endpoint | null {
    let best = seed;
    for (const e of this.endpoints) {
      if (e === best || !usable(e, now, avoid)) continue;
      if (best === null || e.score(now) < best.score(now)) best = e;
    }
    return best;
  }

  private recount(now: number): void {
    let ejected = 0;
    let next = Infinity;
    for (const e of this.endpoints) {
      if (e.ejectedUntil > now) {
        ejected++;
        if (e.ejectedUntil < next) next = e.ejectedUntil;
      }
    }
    this.ejected = ejected;
    this.nextReturn = next;
  }
}

function usable(e: Endpoint, now: number, avoid: readonly Endpoint[] | null): boolean {
  return e.ejectedUntil <= now && (avoid === null || !avoid.includes(e));
}
