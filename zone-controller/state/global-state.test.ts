// The regions view the zone holds: a full view (every new stream) changes
// only what differs from what is held, so a reconnect does not resend every
// region whole to the proxies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GlobalState, type RegionChanges } from './global-state';
import type { RegionStatus__Output } from '../../proto/generated/meridian/federation/v1/RegionStatus';

function status(name: string, services: [string, number][]): RegionStatus__Output {
  return {
    region: name,
    online: true,
    lastHeartbeatAtMs: Date.now(),
    ingressAddress: `10.0.0.1:7600`,
    dnsAddress: '',
    tunnel: null,
    services: services.map(([service, healthy]) => ({ service, healthy, total: 2, load: 0 })),
    peers: [],
    edges: [],
    servicesPartial: false,
    removedServices: [],
  };
}

function lastChange(state: GlobalState, apply: () => void): { names: string[]; changes: RegionChanges } {
  let out: { names: string[]; changes: RegionChanges } | undefined;
  state.once('regions', (names, changes) => (out = { names, changes }));
  apply();
  return out!;
}

const many = (healthy: number, n = 10): [string, number][] => Array.from({ length: n }, (_, i) => [`s${i}`, healthy]);

describe('GlobalState regions', () => {
  it('a full view of held regions changes only the services that differ', () => {
    const state = new GlobalState(undefined);
    state.applyRegions(true, [status('iad', many(2)), status('sin', many(2))], []);
    const sinLater = many(2);
    sinLater[3] = ['s3', 1];
    const { names, changes } = lastChange(state, () => state.applyRegions(true, [status('iad', many(2)), status('sin', sinLater)], []));
    assert.deepEqual(names.sort(), ['iad', 'sin']);
    assert.deepEqual([...(changes.get('iad') as Set<string>)], []);
    assert.deepEqual([...(changes.get('sin') as Set<string>)], ['s3']);
    assert.equal(state.regionService('sin', 's3')?.healthy, 1);
  });

  it('a full view that drops a region or some of its services, or changes most, marks them whole', () => {
    const state = new GlobalState(undefined);
    state.applyRegions(true, [status('iad', many(2)), status('sin', many(2)), status('lis', many(2))], []);
    const { names, changes } = lastChange(state, () => state.applyRegions(true, [status('iad', many(2, 9)), status('sin', many(0))], []));
    assert.deepEqual(names.sort(), ['iad', 'lis', 'sin']);
    assert.equal(changes.get('iad'), 'all', 'a service gone');
    assert.equal(changes.get('sin'), 'all', 'most services changed');
    assert.equal(changes.get('lis'), 'all', 'the region gone');
    assert.equal(state.regions.has('lis'), false);
    assert.equal(state.regionService('iad', 's9'), undefined);
    assert.equal(state.regionService('sin', 's0')?.healthy, 0);
  });
});
