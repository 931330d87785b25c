// What the edge-memory measurement sends down the discovery stream: the
// control-plane bench's world (bench/control-plane/fixtures.ts: every
// service has one instance in every region) as the zone controller sends
// it to a proxy that asked for partial regions: a full view, then updates
// that each name a few services (their local instances, and their counts in
// every remote region as services_partial), split by the zone's own
// viewParts.
import { regionDocument, regionName, serviceDocument, serviceName, instanceId, type Sizes } from '../control-plane/fixtures';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { RemoteRegion } from '../../proto/generated/meridian/discovery/v1/RemoteRegion';
import type { LocalInstance } from '../../proto/generated/meridian/discovery/v1/LocalInstance';
import type { Resource } from '../../proto/generated/meridian/resource/v1/Resource';

export interface FeedOptions extends Sizes {
  // Where every local instance points (a listener of the measurement).
  upstream: { address: string; port: number };
}

const LOCAL = 0;

function resource(doc: Record<string, unknown>): Resource {
  const name = (doc.metadata as { name: string }).name;
  return { kind: doc.kind as string, name, document: Buffer.from(JSON.stringify(doc)), modRevision: 1 };
}

function localInstance(s: number, o: FeedOptions, healthy = true): LocalInstance {
  return { id: instanceId(s, LOCAL), service: serviceName(s), address: o.upstream.address, port: o.upstream.port, weight: 1, labels: {}, healthy };
}

function region(r: number, services: RemoteRegion['services'], partial: boolean): RemoteRegion {
  const doc = regionDocument(r) as { spec: { location: { latitude: number; longitude: number } } };
  return {
    name: regionName(r),
    latitude: doc.spec.location.latitude,
    longitude: doc.spec.location.longitude,
    ingressAddress: `127.0.0.1:${7600 + r}`,
    reachable: true,
    rttMs: 0,
    services,
    relayVia: '',
    relayIngressAddress: '',
    servicesPartial: partial,
    removedServices: [],
  };
}

// withInstances false: the resources and empty regions only (the zone before
// any instance registered: the control-plane bench connects its edge then).
export function fullView(version: number, o: FeedOptions, withInstances: boolean): View {
  const resources: Resource[] = [];
  for (let r = 0; r < o.regions; r++) resources.push(resource(regionDocument(r)));
  for (let s = 0; s < o.services; s++) resources.push(resource(serviceDocument(s, o, '60s')));
  const all = [...Array(o.services).keys()];
  const regions: RemoteRegion[] = [];
  for (let r = 1; r < o.regions; r++) regions.push(region(r, withInstances ? all.map((s) => ({ service: serviceName(s), healthy: 1, total: 1, load: 0 })) : [], false));
  return {
    version,
    full: true,
    region: regionName(LOCAL),
    resources,
    removedResources: [],
    instances: withInstances ? all.map((s) => localInstance(s, o)) : [],
    instanceServices: withInstances ? all.map(serviceName) : [],
    regions,
    removedRegions: [],
  };
}

// An update naming `services`: their local instance (healthy or not) and,
// in every remote region, their counts (healthy 1 or 0 of 1).
export function serviceUpdate(version: number, o: FeedOptions, services: readonly number[], healthy: boolean, remoteOnly = false): View {
  const counts = services.map((s) => ({ service: serviceName(s), healthy: healthy ? 1 : 0, total: 1, load: 0 }));
  const regions: RemoteRegion[] = [];
  for (let r = 1; r < o.regions; r++) regions.push(region(r, counts, true));
  return {
    version,
    full: false,
    region: regionName(LOCAL),
    resources: [],
    removedResources: [],
    instances: remoteOnly ? [] : services.map((s) => localInstance(s, o, healthy)),
    instanceServices: remoteOnly ? [] : services.map(serviceName),
    regions,
    removedRegions: [],
  };
}
