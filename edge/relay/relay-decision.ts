// What a zone ingress does with a request that names a target region
// (x-meridian-target-region): serve it here when the target is this region;
// forward it to the target's ingress when it came straight from an edge (hop
// count 1) and this ingress reaches the target directly; refuse it otherwise.
// A request that already passed a relay (hop count 2 or more) is never
// forwarded again, so relays cannot loop. An edge never relays on a client's
// say-so: the header is stripped there (request-head.ts) and set only by the
// edge itself.
import type { RegionTarget } from '../region-picker/region-target';
import type { RelayTargets } from './relay-targets';

export type RelayDecision =
  | { kind: 'local' }
  | { kind: 'forward'; target: RegionTarget }
  | { kind: 'refuse'; status: 502 | 508; message: string };

const LOCAL: RelayDecision = { kind: 'local' };

export function decideRelay(
  region: string,
  maxHops: number,
  targetRegion: string | undefined,
  hops: number,
  relays: RelayTargets,
): RelayDecision {
  if (targetRegion === undefined || targetRegion === '' || targetRegion === region) return LOCAL;
  if (hops !== 1 || hops + 1 > maxHops) {
    return {
      kind: 'refuse',
      status: 508,
      message: `not relaying to region '${targetRegion}': the request already passed ${hops} meridian gateway(s); an ingress relays only requests that come straight from an edge`,
    };
  }
  const target = relays.get(targetRegion);
  if (target === undefined) {
    return { kind: 'refuse', status: 502, message: `cannot relay to region '${targetRegion}': region '${region}' does not reach it directly or it has no healthy instance` };
  }
  return { kind: 'forward', target };
}
