import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { resourceTable } from './resource-table';

describe('resourceTable', () => {
  const now = Date.parse('2026-11-22T10:00:00.000Z');

  it('shows how long ago a zone last heartbeat', () => {
    const region = (name: string, lastHeartbeat: string) => ({
      metadata: { name },
      spec: { location: { latitude: 0, longitude: 0 } },
      status: { online: true, lastHeartbeat, services: [] },
    });
    const out = resourceTable(
      'Region',
      [
        region('a', '2026-11-22T09:59:55.000Z'),
        region('b', '2026-11-22T09:55:00.000Z'),
        region('c', '2026-11-22T05:00:00.000Z'),
        region('d', '2026-11-19T10:00:00.000Z'),
      ],
      { now },
    );
    assert.deepEqual(
      out.split('\n').slice(1, 5).map((l) => l.split(/\s{3,}/)[3]),
      ['5s ago', '5m ago', '5h ago', '3d ago'],
    );
  });

  it('shows what is missing as -', () => {
    const out = resourceTable('Service', [{ metadata: { name: 'bare' } }], { now });
    assert.equal(out, 'NAME   HOSTS       PORTS\nbare   bare.mesh   -\n');
  });

  it('shows the service of a policy with -o wide', () => {
    const item = { metadata: { name: 'p', resourceVersion: 4 }, spec: { service: '*' } };
    assert.equal(resourceTable('ResiliencePolicy', [item], { now }), 'NAME   VERSION\np      4\n');
    assert.equal(resourceTable('ResiliencePolicy', [item], { now, wide: true }), 'NAME   SERVICE   VERSION\np      *         4\n');
  });
});
