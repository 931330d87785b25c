// Conversions between the store's records and the federation messages.
import type { Resource } from '../../proto/generated/meridian/resource/v1/Resource';
import type { Change } from '../../proto/generated/meridian/resource/v1/Change';
import type { RegionStatus } from '../../proto/generated/meridian/federation/v1/RegionStatus';
import type { ChangeEvent, StoredResource } from '../store/resource-store';
import { isOnline, type ZoneStatus } from '../zones/zone-status';

export function toWireResource(r: StoredResource): Resource {
  return { kind: r.kind, name: r.name, document: Buffer.from(JSON.stringify(r.document)), modRevision: r.modRevision };
}

export function toWireChange(c: ChangeEvent): Change {
  if (c.op === 'delete') return { op: 'DELETE', resource: { kind: c.kind, name: c.name, modRevision: c.modRevision } };
  return {
    op: 'PUT',
    resource: { kind: c.kind, name: c.name, document: Buffer.from(JSON.stringify(c.document)), modRevision: c.modRevision },
  };
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
