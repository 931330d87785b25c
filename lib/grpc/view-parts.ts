// A View too large for one gRPC message (clients refuse more than 4 MiB by
// default; a full view of 10,000 services is about 7 MB, and a zone at its
// registry caps holds about 45 MB of instances) goes as consecutive parts of
// the same version: the first keeps `full`, the others add to it, and every
// part but the last has `more` set so a proxy applies them together. Each
// part stays under the budget whatever the view's size: a service's instances
// may span parts (its name in instance_services of each part that carries
// some), a resource, a removal and a remote region each go whole in one part.
// Chunking rather than a larger message limit: the limit would have to follow
// the registry caps on every proxy, and a proxy would still hold the whole
// encoded message and apply it at once.
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { LocalInstance } from '../../proto/generated/meridian/discovery/v1/LocalInstance';

// Well under the 4 MiB default, since sizes here are estimates.
export const VIEW_PART_BYTES = 1024 * 1024;

type Item = { size: number; add: (part: View) => void };

export function viewParts(view: View, budget = VIEW_PART_BYTES): View[] {
  const items = itemsOf(view);
  const parts: View[] = [];
  let part = emptyPart(view, true);
  let size = 0;
  for (const item of items) {
    if (size > 0 && size + item.size > budget) {
      parts.push(part);
      part = emptyPart(view, false);
      size = 0;
    }
    item.add(part);
    size += item.size;
  }
  parts.push(part);
  if (parts.length === 1) return [view];
  for (const p of parts.slice(0, -1)) p.more = true;
  return parts;
}

function emptyPart(view: View, first: boolean): View {
  return {
    version: view.version,
    full: first && view.full,
    region: view.region,
    resources: [],
    removedResources: [],
    instances: [],
    instanceServices: [],
    regions: [],
    removedRegions: [],
    keptResources: first ? (view.keptResources ?? []) : [],
    more: false,
  };
}

function itemsOf(view: View): Item[] {
  const items: Item[] = [];
  for (const r of view.resources ?? []) {
    items.push({ size: 24 + r.kind!.length + r.name!.length + (r.document as Buffer).length, add: (p) => p.resources!.push(r) });
  }
  for (const key of view.removedResources ?? []) items.push({ size: key.length + 4, add: (p) => p.removedResources!.push(key) });
  const byService = new Map<string, LocalInstance[]>();
  for (const s of view.instanceServices ?? []) byService.set(s, []);
  for (const i of view.instances ?? []) byService.get(i.service!)?.push(i);
  for (const [service, list] of byService) {
    // A service with no instances left: its name alone, which empties it.
    if (list.length === 0) items.push({ size: service.length + 4, add: (p) => p.instanceServices!.push(service) });
    for (const i of list) {
      items.push({
        size: 32 + i.id!.length + i.service!.length + i.address!.length + labelsSize(i.labels) + portsSize(i.ports),
        add: (p) => {
          // Named once in each part that carries some of its instances.
          if (p.instanceServices![p.instanceServices!.length - 1] !== service) p.instanceServices!.push(service);
          p.instances!.push(i);
        },
      });
    }
  }
  for (const r of view.regions ?? []) {
    let size = 64 + r.name!.length + (r.ingressAddress?.length ?? 0);
    for (const s of r.services ?? []) size += 16 + s.service!.length;
    for (const s of r.removedServices ?? []) size += 4 + s.length;
    items.push({ size, add: (p) => p.regions!.push(r) });
  }
  for (const name of view.removedRegions ?? []) items.push({ size: name.length + 4, add: (p) => p.removedRegions!.push(name) });
  return items;
}

// Each entry: the name (a DNS label: one byte a character), a varint of at
// most 3 bytes and the map entry's framing.
function portsSize(ports: LocalInstance['ports']): number {
  let n = 0;
  for (const name of Object.keys(ports ?? {})) n += name.length + 8;
  return n;
}

// UTF-8 bytes, as encoded (a label of multi-byte characters is longer than its length).
function labelsSize(labels: LocalInstance['labels']): number {
  let n = 0;
  for (const [k, v] of Object.entries(labels ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}
