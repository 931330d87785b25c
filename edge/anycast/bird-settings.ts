// The edge host's BIRD config, as data for lib/net's renderEdgeConfig: the
// BGP sessions and the anycast addresses come from this region's Region
// resource (spec.bgp), what the resource does not carry from the flags. The
// result is a problem string rather than an exception when the view does not
// allow a config yet (no Region, no spec.bgp): the edge then leaves BIRD alone.
import * as os from 'node:os';
import { upstreamName, type BgpTimers, type EdgeBirdConfig } from '../../lib/net/bird-config';
import { isIPv4 } from '../../lib/net/ipv4';
import type { RegionResource } from '../../lib/resources';
import type { AnycastOptions } from './anycast-options';

export type BirdSettings = Omit<EdgeBirdConfig, 'announce'>;

// Keepalive a third of the hold time; reconnects as often as keepalives go.
export function timersFor(holdTimeSeconds: number): BgpTimers {
  const keepalive = Math.max(1, Math.floor(holdTimeSeconds / 3));
  return { holdTime: holdTimeSeconds, keepaliveTime: keepalive, connectRetryTime: keepalive, errorWaitTime: [keepalive, 2 * keepalive] };
}

// The first IPv4 address of a non-loopback interface that is not announced:
// stable for the host, and unique among BGP speakers.
export function defaultRouterId(exclude: readonly string[]): string | undefined {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal && !exclude.includes(a.address)) return a.address;
    }
  }
  return undefined;
}

export function birdSettings(region: RegionResource | undefined, o: AnycastOptions): BirdSettings | string {
  if (region === undefined) return 'no Region resource for this region in the view yet';
  const bgp = region.spec.bgp;
  if (bgp === undefined) return `Region ${region.metadata.name} has no spec.bgp`;
  const anycast = o.anycast.length > 0 ? o.anycast : bgp.anycast;
  const v4 = anycast.filter(isIPv4);
  if (v4.length === 0) return `no IPv4 anycast address to announce (BIRD is driven for IPv4 only): ${anycast.join(', ')}`;
  const neighbors = bgp.neighbors.filter((n) => isIPv4(n.address));
  if (neighbors.length === 0) return 'spec.bgp.neighbors has no IPv4 neighbor';
  const routerId = o.routerId ?? defaultRouterId(v4);
  if (routerId === undefined) return 'no IPv4 address for the router id: give --bgp-router-id';
  // Sessions are named by neighbor address: reordering the list in the
  // resource does not restart them.
  return {
    routerId,
    localAs: bgp.localAsn,
    neighbors: neighbors.map((n) => ({ name: upstreamName(n.address), address: n.address, as: n.asn, bfd: n.bfd })),
    timers: timersFor(o.holdTimeSeconds),
    log: 'stderr',
    anycast: v4.map((a) => `${a}/32`),
    originate: o.originate,
  };
}
