// The bench's world, by index: region, service and instance names, where each
// instance's health check lands, and which services the measurements watch.
// Every service has one instance in every region, so each region reports
// every service: the largest regions view for the size.

export interface Sizes {
  regions: number;
  services: number;
}

// Health checks of ordinary instances land on this grid of loopback listeners
// (every 127/8 address is on lo): spreading the checks over addresses and
// ports keeps TIME_WAIT per 4-tuple small.
export const GRID_ADDRESSES = 16;
export const GRID_PORTS = 16;

// Services whose check runs every second with thresholds of one, so a flip
// is seen within a second; service p's instance in region p is that region's
// probe, on a listener of its own.
export const PROBE_CHECK = { type: 'tcp', interval: '1s', timeout: '500ms', healthyThreshold: 1, unhealthyThreshold: 1 } as const;

export const regionName = (r: number): string => `r${String(r).padStart(2, '0')}`;
export const serviceName = (s: number): string => `svc-${String(s).padStart(5, '0')}`;
export const instanceId = (s: number, r: number): string => `${serviceName(s)}-${regionName(r)}`;

// The grid listener for service s: address (127.0.10+a.x) and port index.
export function gridSlot(s: number): { addressIndex: number; portIndex: number } {
  return { addressIndex: s % GRID_ADDRESSES, portIndex: Math.floor(s / GRID_ADDRESSES) % GRID_PORTS };
}

export function gridListenAddress(addressIndex: number): string {
  return `127.0.${10 + addressIndex}.1`;
}

// Probe service of region r (one per region).
export const probeService = (r: number): number => r;

// Marker services of region r: the churn's measured operations, one per
// second, each on its own service so every proxy can watch it.
export const MARKERS_PER_REGION = 80;
export function markerServices(r: number, sizes: Sizes): number[] {
  const base = Math.max(sizes.regions, Math.floor(sizes.services / 10));
  const out: number[] = [];
  for (let i = 0; i < MARKERS_PER_REGION; i++) {
    const s = base + r * MARKERS_PER_REGION + i;
    if (s < sizes.services) out.push(s);
  }
  return out;
}

// Services that unmarked churn operations cycle through: everything above
// the markers and probes.
export function churnServices(sizes: Sizes): number[] {
  const start = Math.max(sizes.regions, Math.floor(sizes.services / 10)) + sizes.regions * MARKERS_PER_REGION;
  const out: number[] = [];
  for (let s = start; s < sizes.services; s++) out.push(s);
  return out;
}

// What every simulated proxy keeps an eye on: "<region>|<service>".
export function watchedKeys(sizes: Sizes): string[] {
  const keys: string[] = [];
  for (let r = 0; r < sizes.regions; r++) {
    keys.push(`${regionName(r)}|${serviceName(probeService(r))}`);
    for (const s of markerServices(r, sizes)) keys.push(`${regionName(r)}|${serviceName(s)}`);
  }
  return keys;
}

export function regionDocument(r: number): Record<string, unknown> {
  // Spread around the globe; only distances matter to the edge.
  return {
    apiVersion: 'meridian.dev/v1',
    kind: 'Region',
    metadata: { name: regionName(r) },
    // The bench's instances listen on 127/8.
    spec: { location: { latitude: -60 + ((r * 37) % 120), longitude: -170 + ((r * 71) % 340) }, instanceNetworks: ['127.0.0.0/8'] },
  };
}

export function serviceDocument(s: number, sizes: Sizes, checkInterval: string): Record<string, unknown> {
  const probe = s < sizes.regions;
  return {
    apiVersion: 'meridian.dev/v1',
    kind: 'Service',
    metadata: { name: serviceName(s) },
    spec: {
      hosts: [`${serviceName(s)}.bench.example.com`],
      healthCheck: probe ? { ...PROBE_CHECK } : { type: 'tcp', interval: checkInterval, timeout: '1s', healthyThreshold: 1, unhealthyThreshold: 2 },
    },
  };
}
