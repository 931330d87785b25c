// Two consecutive View messages folded into one that has the same effect on
// a proxy: what a proxy that is behind gets instead of every message it
// missed (it needs the latest state, not the history).
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { RemoteRegion } from '../../proto/generated/meridian/discovery/v1/RemoteRegion';
import type { Resource } from '../../proto/generated/meridian/resource/v1/Resource';
import type { LocalInstance } from '../../proto/generated/meridian/discovery/v1/LocalInstance';

export function mergeViews(a: View, b: View): View {
  if (b.full) return b;

  const resources = new Map<string, Resource>();
  for (const r of a.resources ?? []) resources.set(`${r.kind}/${r.name}`, r);
  const removedResources = new Set(a.removedResources ?? []);
  for (const key of b.removedResources ?? []) {
    resources.delete(key);
    removedResources.add(key);
  }
  for (const r of b.resources ?? []) {
    const key = `${r.kind}/${r.name}`;
    resources.set(key, r);
    removedResources.delete(key);
  }

  // A named service's instances are replaced whole: the later list wins.
  const replaced = new Set(b.instanceServices ?? []);
  const instances: LocalInstance[] = (a.instances ?? []).filter((i) => !replaced.has(i.service!));
  instances.push(...(b.instances ?? []));

  const regions = new Map<string, RemoteRegion>();
  for (const r of a.regions ?? []) regions.set(r.name!, r);
  const removedRegions = new Set(a.removedRegions ?? []);
  for (const name of b.removedRegions ?? []) {
    regions.delete(name);
    removedRegions.add(name);
  }
  for (const r of b.regions ?? []) {
    const earlier = regions.get(r.name!);
    regions.set(r.name!, earlier && r.servicesPartial ? mergeRegion(earlier, r) : r);
    removedRegions.delete(r.name!);
  }

  return {
    version: b.version,
    full: a.full,
    region: b.region,
    resources: [...resources.values()],
    // A full view has nothing to remove: what it lacks is gone.
    removedResources: a.full ? [] : [...removedResources],
    instances,
    instanceServices: [...new Set([...(a.instanceServices ?? []), ...(b.instanceServices ?? [])])],
    regions: [...regions.values()],
    removedRegions: a.full ? [] : [...removedRegions],
    // Still kept: those the later message neither sent nor removed.
    keptResources: (a.keptResources ?? []).filter((key) => !resources.has(key) && !removedResources.has(key)),
  };
}

// `b` lists only the services that changed after `a`: its own fields win,
// its services are upserts and its removals remove.
function mergeRegion(a: RemoteRegion, b: RemoteRegion): RemoteRegion {
  const services = new Map((a.services ?? []).map((s) => [s.service!, s]));
  const removed = new Set(a.removedServices ?? []);
  for (const name of b.removedServices ?? []) {
    services.delete(name);
    if (a.servicesPartial) removed.add(name);
  }
  for (const s of b.services ?? []) {
    services.set(s.service!, s);
    removed.delete(s.service!);
  }
  return { ...b, servicesPartial: a.servicesPartial, services: [...services.values()], removedServices: [...removed] };
}
