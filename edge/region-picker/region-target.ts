// One region as a destination for one service: this edge's requests in flight
// to it, its circuit, and for a remote region what the region reports (healthy
// instances, load) and the pool to its ingress. Kept from view to view while
// the region stays, so the circuit and the in-flight count survive updates.
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { CircuitBreaker, type BreakerConfig } from '../resilience/circuit-breaker';

export class RegionTarget {
  inFlight = 0;
  readonly breaker: CircuitBreaker;
  // Position in the service's plan (a bit in a per-request mask).
  index = 0;
  // Order key: 0 for the local region, then round-trip time in ms (measured,
  // or estimated from distance). Infinity when unknown.
  cost = 0;
  // Remote regions only.
  reportedLoad = 0;
  healthy = 0;
  ingress: UpstreamDispatcher | undefined = undefined;
  // host:port of the ingress, for connections of protocol upgrades.
  ingressAddress = '';
  // Set while this region is reached through that region's ingress (its
  // direct tunnel is down); `ingress` is then the relay's pool.
  relayVia: string | undefined = undefined;

  constructor(
    readonly name: string,
    readonly local: boolean,
    breaker: BreakerConfig,
  ) {
    this.breaker = new CircuitBreaker(breaker);
  }

  // In-flight load compared with the service's soft limit: this edge's own for
  // the local region; what the region reports plus this edge's for a remote one.
  load(): number {
    return this.local ? this.inFlight : this.reportedLoad + this.inFlight;
  }
}
