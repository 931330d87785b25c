// Passive health: an endpoint that fails `consecutiveFailures` times in a row
// (connect failure, reset, timeout, or a 502/503/504 answer) is ejected for
// baseEjectionTime * 2^(times ejected before), never more than
// maxEjectionPercent of the endpoints at once (but at least one, as Envoy
// does, so a region whose only instance is dead can be left for the next).
// The doubling wears off: every baseEjectionTime spent un-ejected takes one
// step back. A success resets the count of failures.
import type { Endpoint } from './endpoint';

export interface OutlierConfig {
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionPercent: number;
}

export const DEFAULT_OUTLIER_CONFIG: OutlierConfig = { consecutiveFailures: 5, baseEjectionMs: 10_000, maxEjectionPercent: 50 };

export class OutlierDetector {
  constructor(public config: OutlierConfig = DEFAULT_OUTLIER_CONFIG) {}

  onSuccess(endpoint: Endpoint): void {
    endpoint.consecutiveFailures = 0;
  }

  // Returns the ejection time in ms when this failure ejects the endpoint, 0 otherwise.
  onFailure(endpoint: Endpoint, now: number, ejectedNow: number, total: number): number {
    endpoint.consecutiveFailures++;
    if (endpoint.consecutiveFailures < this.config.consecutiveFailures) return 0;
    if (endpoint.isEjected(now)) return 0;
    if (!this.mayEject(ejectedNow, total)) return 0;
    if (endpoint.ejections > 0 && endpoint.lastEjectionEnd > 0) {
      const rested = Math.floor((now - endpoint.lastEjectionEnd) / this.config.baseEjectionMs);
      endpoint.ejections = Math.max(0, endpoint.ejections - rested);
    }
    const duration = this.config.baseEjectionMs * 2 ** Math.min(endpoint.ejections, 16);
    endpoint.ejections++;
    endpoint.ejectedUntil = now + duration;
    endpoint.lastEjectionEnd = endpoint.ejectedUntil;
    endpoint.consecutiveFailures = 0;
    return duration;
  }

  mayEject(ejectedNow: number, total: number): boolean {
    const pct = this.config.maxEjectionPercent;
    if (pct <= 0 || total === 0) return false;
    if (ejectedNow === 0) return true;
    return (ejectedNow + 1) * 100 <= total * pct;
  }
}
