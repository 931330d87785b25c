// The order in which a service's regions are tried from this region.
// A FailoverPolicy applies when its spec.service is the service (preferred) or
// "*", and one of its rules has `from` equal to the local region (preferred) or
// "*": its `regions` are the order, and regions it does not list are not
// used. Otherwise regions are ordered by cost: the local region 0, a remote
// region its measured round-trip time, or when none is measured the time
// light in fibre needs for the great-circle distance between the regions
// (distance / 100 km per ms); ties and unknown locations by name.
import type { FailoverPolicyResource } from '../../lib/resources';
import { estimatedRttMs, greatCircleKm, type LatLon } from '../../lib/geo/great-circle';

export interface CandidateRegion {
  name: string;
  local: boolean;
  rttMs: number;
  location: LatLon | undefined;
}

export interface OrderedRegion {
  name: string;
  cost: number;
}

export function findFailoverOrder(
  policies: Iterable<FailoverPolicyResource>,
  service: string,
  localRegion: string,
): { policy: string; regions: readonly string[] } | undefined {
  const sorted = [...policies].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const wanted of [service, '*']) {
    for (const policy of sorted) {
      if (policy.spec.service !== wanted) continue;
      const rule = policy.spec.rules.find((r) => r.from === localRegion) ?? policy.spec.rules.find((r) => r.from === '*');
      if (rule !== undefined) return { policy: policy.metadata.name, regions: rule.regions };
    }
  }
  return undefined;
}

export function regionCost(candidate: CandidateRegion, localLocation: LatLon | undefined): number {
  if (candidate.local) return 0;
  if (candidate.rttMs > 0) return candidate.rttMs;
  if (localLocation === undefined || candidate.location === undefined) return Infinity;
  return estimatedRttMs(greatCircleKm(localLocation, candidate.location));
}

export function orderRegions(
  candidates: readonly CandidateRegion[],
  localLocation: LatLon | undefined,
  failoverOrder: readonly string[] | undefined,
): OrderedRegion[] {
  const withCost = candidates.map((c) => ({ name: c.name, cost: regionCost(c, localLocation) }));
  if (failoverOrder !== undefined) {
    const byName = new Map(withCost.map((c) => [c.name, c]));
    const out: OrderedRegion[] = [];
    for (const name of failoverOrder) {
      const c = byName.get(name);
      if (c !== undefined) out.push(c);
    }
    return out;
  }
  return withCost.sort((a, b) => (a.cost < b.cost ? -1 : a.cost > b.cost ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
