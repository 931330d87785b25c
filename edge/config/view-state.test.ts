// What a snapshot copies: a resource map only after it changed (a view's
// resource maps never change once handed out), never the instances or a
// remote region's services (updated in place: a one-service message costs
// what it changed); and what it reports changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDocument, type ResourceDocument } from '../../lib/resources';
import type { LocalInstance, RemoteRegion, RemoteServiceState } from './edge-view';
import { ViewState } from './view-state';

function serviceDoc(name: string): ResourceDocument {
  const r = validateDocument({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec: { hosts: [`${name}.example.com`] } });
  if (!r.ok) throw new Error('invalid test Service');
  return r.document;
}

const instance = (service: string, port: number): LocalInstance => ({ id: `${service}-${port}`, service, address: '127.0.0.1', port, weight: 1, labels: {}, healthy: true });

function region(name: string, services: Record<string, number>, fields: Partial<RemoteRegion> = {}): RemoteRegion {
  const map = new Map<string, RemoteServiceState>(Object.entries(services).map(([s, healthy]) => [s, { healthy, total: 2, load: 0 }]));
  return { name, latitude: 0, longitude: 0, ingressAddress: `${name}:443`, reachable: true, rttMs: 10, services: map, ...fields };
}

describe('ViewState snapshots', () => {
  it('hands out the same resource map until a resource of its kind changes', () => {
    const state = new ViewState('fra', 'discovery');
    state.upsert(serviceDoc('api'));
    const v1 = state.snapshot();
    state.setInstances('api', [instance('api', 1)]);
    const v2 = state.snapshot();
    assert.equal(v2.services, v1.services, 'no resource changed: the same map');
    state.upsert(serviceDoc('web'));
    const v3 = state.snapshot();
    assert.notEqual(v3.services, v2.services);
    assert.deepEqual([...v1.services.keys()], ['api'], 'an earlier view keeps its resources');
    assert.deepEqual([...v3.services.keys()], ['api', 'web']);
    state.remove('Service/nothing');
    assert.equal(state.snapshot().services, v3.services, 'removing what is not there changes nothing');
  });

  it('updates a remote region in place and names only what moved', () => {
    const state = new ViewState('fra', 'discovery');
    state.setRemoteRegion(region('ams', { a: 1, b: 1, c: 1 }));
    const base = state.snapshot();
    const table = base.remoteRegions.get('ams')!.services;

    state.mergeRemoteRegion(region('ams', { b: 0, d: 2 }), ['c', 'never-there']);
    const v = state.snapshot();
    assert.equal(v.remoteRegions.get('ams')!.services, table, 'the same table, not a copy');
    assert.deepEqual(Object.fromEntries(table), { a: { healthy: 1, total: 2, load: 0 }, b: { healthy: 0, total: 2, load: 0 }, d: { healthy: 2, total: 2, load: 0 } });
    assert.equal(v.changes!.all, false);
    assert.deepEqual([...v.changes!.services].sort(), ['b', 'c', 'd']);
    assert.deepEqual([...v.changes!.regions], ['ams']);

    // The same counts again: nothing moved.
    state.mergeRemoteRegion(region('ams', { b: 0 }), []);
    const same = state.snapshot();
    assert.equal(same.changes!.services.size, 0);
    assert.equal(same.changes!.regions.size, 0);

    // Whole (no services_partial): services left out are gone.
    state.setRemoteRegion(region('ams', { a: 1, b: 0 }));
    assert.deepEqual([...state.snapshot().changes!.services], ['d']);

    // A region's own field moving names every service in it.
    state.mergeRemoteRegion(region('ams', {}, { reachable: false }), []);
    const moved = state.snapshot();
    assert.deepEqual([...moved.changes!.services].sort(), ['a', 'b']);
    assert.equal(moved.remoteRegions.get('ams')!.reachable, false);

    state.removeRemoteRegion('ams');
    const gone = state.snapshot();
    assert.equal(gone.remoteRegions.has('ams'), false);
    assert.deepEqual([...gone.changes!.services].sort(), ['a', 'b']);
  });

  it('ignores its own region; clear() starts over with everything changed', () => {
    const state = new ViewState('fra', 'discovery');
    state.setRemoteRegion(region('fra', { a: 1 }));
    state.setRemoteRegion(region('ams', { a: 1 }));
    state.setInstances('a', [instance('a', 1)]);
    assert.deepEqual([...state.snapshot().remoteRegions.keys()], ['ams']);
    state.clear();
    const v = state.snapshot();
    assert.equal(v.changes!.all, true);
    assert.equal(v.remoteRegions.size, 0);
    assert.equal(v.instances.size, 0);
  });
});
