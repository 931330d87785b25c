// Conversions between the store's records and the federation messages.
import type { Resource } from '../../proto/generated/meridian/resource/v1/Resource';
import type { Change } from '../../proto/generated/meridian/resource/v1/Change';
import type { RegionStatus } from '../../proto/generated/meridian/federation/v1/RegionStatus';
import type { GlobalMessage } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import type { ChangeBatch, ChangeEvent, StoredResource } from '../store/resource-store';
import { isOnline, type ServiceHealthSummary, type ZoneStatus } from '../zones/zone-status';
import type { StoredDocument } from '../store/types';

// What a document looks like on the wire (Certificate keys opened for the
// zone); undefined for a record that must not go to zones at all.
export type RevealDocument = (doc: StoredDocument) => StoredDocument | undefined;
const asStored: RevealDocument = (doc) => doc;

// A record's JSON, kept while the record lives: the store replaces a record
// when its resource changes, so every zone's snapshot shares one encoding.
// A withheld record is remembered too, so it is judged (and logged) once.
const documents = new WeakMap<object, Buffer | 'withheld'>();

// Undefined for a withheld record: the snapshot goes without it.
export function toWireResource(r: Readonly<StoredResource>, reveal: RevealDocument = asStored): Resource | undefined {
  let document = documents.get(r);
  if (!document) {
    const shown = reveal(r.document);
    documents.set(r, (document = shown ? Buffer.from(JSON.stringify(shown)) : 'withheld'));
  }
  if (document === 'withheld') return undefined;
  return { kind: r.kind, name: r.name, document, modRevision: r.modRevision };
}

// A withheld record goes as a removal, so a zone holds after the deltas what
// a snapshot would have given it (and never the earlier key of a record that
// no longer opens).
export function toWireChange(c: ChangeEvent, reveal: RevealDocument = asStored): Change {
  const shown = c.op === 'delete' ? undefined : c.document && reveal(c.document);
  if (c.op === 'delete' || (c.document && !shown)) return { op: 'DELETE', resource: { kind: c.kind, name: c.name, modRevision: c.modRevision } };
  return {
    op: 'PUT',
    resource: { kind: c.kind, name: c.name, document: Buffer.from(JSON.stringify(shown)), modRevision: c.modRevision },
  };
}

// The Snapshot a zone gets for the store's resources at `revision`.
export function snapshotMessage(snap: { revision: number; resources: readonly Readonly<StoredResource>[] }, reveal?: RevealDocument): GlobalMessage {
  return { snapshot: { version: snap.revision, resources: snap.resources.flatMap((r) => toWireResource(r, reveal) ?? []) } };
}

// The Deltas that take a zone from `fromVersion` to the batch's revision.
export function deltasMessage(fromVersion: number, batch: ChangeBatch, reveal?: RevealDocument): GlobalMessage {
  return { deltas: { fromVersion, version: batch.revision, changes: batch.changes.map((c) => toWireChange(c, reveal)) } };
}

export function toWireRegionStatus(s: ZoneStatus, now = Date.now()): RegionStatus {
  return {
    region: s.region,
    online: isOnline(s, now),
    lastHeartbeatAtMs: s.lastHeartbeatMs,
    ingressAddress: s.ingressAddress,
    dnsAddress: s.dnsAddress,
    tunnel: s.tunnel,
    services: s.services,
    peers: s.peers,
    edges: s.edges,
  };
}

// The zone's own fields whole, and of its services only those named: the
// ones still there as upserts, the others as removals.
export function toWirePartialRegionStatus(
  s: ZoneStatus,
  services: ReadonlySet<string>,
  lookup: (service: string) => ServiceHealthSummary | undefined,
  now = Date.now(),
): RegionStatus {
  const status: RegionStatus = { ...toWireRegionStatus(s, now), services: [], servicesPartial: true, removedServices: [] };
  for (const name of services) {
    const found = lookup(name);
    if (found) status.services!.push(found);
    else status.removedServices!.push(name);
  }
  return status;
}
