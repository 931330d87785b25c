// The resources the lab's mesh runs on, as `meridian apply` takes them: a
// Region per region host (its location, its tunnel address, and BGP to its
// continent router with the shared anycast address), the echo service in
// every region, one service per region that only that region has, and a
// resilience policy. Health checks are quicker than the defaults so that
// failovers in the scenarios take a second, not several.
import { stringify } from 'yaml';
import type { LabAddresses, Region } from './address-plan';

export const LOCATIONS: Record<Region, { latitude: number; longitude: number; displayName: string }> = {
  fra: { latitude: 50.11, longitude: 8.68, displayName: 'Frankfurt' },
  iad: { latitude: 38.95, longitude: -77.45, displayName: 'Ashburn' },
  sin: { latitude: 1.35, longitude: 103.99, displayName: 'Singapore' },
  syd: { latitude: -33.87, longitude: 151.21, displayName: 'Sydney' },
};

const doc = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'meridian.dev/v1', kind, metadata: { name }, spec });

// Failing instances are seen within about a second.
const HEALTH_CHECK = { type: 'http', path: '/healthz', interval: '500ms', timeout: '400ms', healthyThreshold: 1, unhealthyThreshold: 2 };

export function regionResource(a: LabAddresses, r: Region) {
  const reg = a.regions[r];
  const { displayName, ...location } = LOCATIONS[r];
  return doc('Region', r, {
    location,
    displayName,
    tunnel: { address: reg.tunnel, listenPort: a.wgPort },
    bgp: {
      localAsn: reg.as,
      anycast: [a.anycast],
      neighbors: [{ address: reg.uplink.a.address, asn: a.routers[reg.continent].as, bfd: true }],
    },
    // The lab's instances listen on the region host's loopback; its
    // workloads are on the region's private network.
    instanceNetworks: ['127.0.0.0/8', reg.instanceNetwork.prefix],
  });
}

// A service whose instances run in one region only (only-iad, only-syd).
export const onlyService = (r: Region) => `only-${r}`;

export function serviceResources(onlyIn: Region[]) {
  return [
    doc('Service', 'echo', { healthCheck: HEALTH_CHECK }),
    // The lab's links have no latency (this kernel has no netem), so the
    // round-trip times the zones measure over the tunnels are noise of a few
    // milliseconds: the order of the echo service's regions is pinned to
    // the geography instead. Other services, and syd, go by cost.
    doc('FailoverPolicy', 'echo', {
      service: 'echo',
      rules: [
        { from: 'fra', regions: ['fra', 'iad', 'sin'] },
        { from: 'iad', regions: ['iad', 'fra', 'sin'] },
        { from: 'sin', regions: ['sin', 'fra', 'iad'] },
      ],
    }),
    ...onlyIn.map((r) => doc('Service', onlyService(r), { healthCheck: HEALTH_CHECK })),
    // While a region's instances die, every request may need a retry or
    // two before the health checks catch up: a budget that allows it.
    doc('ResiliencePolicy', 'lab', { service: '*', retries: { attempts: 2, budgetPercent: 50 } }),
  ];
}

// A TCP service (redis) for the mesh-name tests: what a workload reaches at
// redis.mesh:6379 (instances serve it at the port they register).
export const REDIS_PORT = 6379;
export function redisService() {
  return doc('Service', 'redis', {
    ports: [{ name: 'redis', port: REDIS_PORT, protocol: 'tcp' }],
    healthCheck: { type: 'tcp', interval: '500ms', timeout: '400ms', healthyThreshold: 1, unhealthyThreshold: 2 },
  });
}

export function toYaml(docs: unknown[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}
