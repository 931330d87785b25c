// Picks the region (and, for the local region, the instance) for one try.
// The plan is the service's regions in order (region-order.ts), built when the
// view changes: the local region when it has instances, and every remote
// region that is reachable and reports healthy instances of the service. Per
// try, in that order, a region is skipped when a try of this request already
// went there (remote regions; the local region is skipped once every local
// instance was tried), when its circuit is open, or, for the local region,
// when no instance is left after ejection. A region whose load would go over
// the service's soft in-flight limit spills: the next region is preferred,
// and the first spilled one is used only when no region below its limit is
// left.
import type { Endpoint } from '../balancer/endpoint';
import type { RegionTarget } from './region-target';

export interface LocalEndpoints {
  pick(now: number, avoid: readonly Endpoint[] | null): Endpoint | null;
}

// The outcome of a pick, owned by the request and reused across its tries.
export class Pick {
  target: RegionTarget | null = null;
  endpoint: Endpoint | null = null;
}

export function pickRegion(
  plan: readonly RegionTarget[],
  local: LocalEndpoints,
  softLimit: number,
  // Remote regions a try of this request already went to (null: none).
  triedRegions: readonly RegionTarget[] | null,
  // Local instances a try of this request already went to (null: none).
  triedEndpoints: readonly Endpoint[] | null,
  now: number,
  out: Pick,
): boolean {
  let spill: RegionTarget | null = null;
  let spillEndpoint: Endpoint | null = null;
  for (let i = 0; i < plan.length; i++) {
    const target = plan[i];
    if (triedRegions !== null && triedRegions.includes(target)) continue;
    if (!target.breaker.canPass(now, target.inFlight)) continue;
    let endpoint: Endpoint | null = null;
    if (target.local) {
      endpoint = local.pick(now, triedEndpoints);
      if (endpoint === null) continue;
    }
    if (target.load() >= softLimit) {
      if (spill === null) {
        spill = target;
        spillEndpoint = endpoint;
      }
      continue;
    }
    out.target = target;
    out.endpoint = endpoint;
    target.breaker.onPass(now);
    return true;
  }
  if (spill === null) return false;
  out.target = spill;
  out.endpoint = spillEndpoint;
  spill.breaker.onPass(now);
  return true;
}
