import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeViews } from './view-merge';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { RemoteRegion } from '../../proto/generated/meridian/discovery/v1/RemoteRegion';

const resource = (kind: string, name: string, rev: number) => ({ kind, name, document: Buffer.from('{}'), modRevision: rev });
const view = (v: Partial<View>): View => ({
  version: 1, full: false, region: 'fra', resources: [], removedResources: [], instances: [], instanceServices: [], regions: [], removedRegions: [], ...v,
});
const remote = (name: string, services: [string, number][], extra: Partial<RemoteRegion> = {}): RemoteRegion => ({
  name, reachable: true, services: services.map(([service, healthy]) => ({ service, healthy, total: 2 })), ...extra,
});

describe('folding discovery views for a proxy that is behind', () => {
  it('a full view after anything replaces it', () => {
    const full = view({ version: 9, full: true, resources: [resource('Service', 'echo', 9)] });
    assert.equal(mergeViews(view({ version: 3 }), full), full);
  });

  it('resources: the later put wins, a later delete removes, a delete then a put keeps the put', () => {
    const a = view({ version: 2, resources: [resource('Service', 'a', 2), resource('Service', 'b', 2)], removedResources: ['Service/c'] });
    const b = view({ version: 3, resources: [resource('Service', 'a', 3), resource('Service', 'c', 3)], removedResources: ['Service/b'] });
    const m = mergeViews(a, b);
    assert.equal(m.version, 3);
    assert.deepEqual(m.resources!.map((r) => `${r.name}@${r.modRevision}`).sort(), ['a@3', 'c@3']);
    assert.deepEqual(m.removedResources, ['Service/b']);
  });

  it('instances: a service named again is replaced whole by the later list', () => {
    const inst = (id: string, service: string) => ({ id, service, address: '127.0.0.1', port: 1, healthy: true, weight: 1 });
    const a = view({ instances: [inst('e1', 'echo'), inst('e2', 'echo'), inst('w1', 'web')], instanceServices: ['echo', 'web'] });
    const b = view({ instances: [inst('e3', 'echo')], instanceServices: ['echo'] });
    const m = mergeViews(a, b);
    assert.deepEqual(m.instances!.map((i) => i.id).sort(), ['e3', 'w1']);
    assert.deepEqual([...m.instanceServices!].sort(), ['echo', 'web']);
  });

  it('partial regions fold service by service; a whole region replaces the partial one', () => {
    const a = view({ regions: [remote('iad', [['echo', 1], ['web', 2]], { servicesPartial: true, removedServices: ['old'] })] });
    const b = view({ regions: [remote('iad', [['echo', 0]], { servicesPartial: true, removedServices: ['web'], rttMs: 80 })] });
    const m = mergeViews(a, b);
    const iad = m.regions![0]!;
    assert.equal(iad.servicesPartial, true);
    assert.equal(iad.rttMs, 80, 'the later region fields win');
    assert.deepEqual(iad.services!.map((s) => `${s.service}:${s.healthy}`), ['echo:0']);
    assert.deepEqual([...iad.removedServices!].sort(), ['old', 'web']);

    const whole = mergeViews(a, view({ regions: [remote('iad', [['api', 2]])] }));
    assert.deepEqual(whole.regions![0]!.services!.map((s) => s.service), ['api']);
    assert.ok(!whole.regions![0]!.servicesPartial);
  });

  it('a region removed then announced again is present, not removed', () => {
    const m = mergeViews(view({ removedRegions: ['sin'] }), view({ regions: [remote('sin', [['echo', 2]])] }));
    assert.deepEqual(m.regions!.map((r) => r.name), ['sin']);
    assert.deepEqual(m.removedRegions, []);
  });

  it('folded into a full view, the result stays full and lists nothing as removed', () => {
    const full = view({ full: true, resources: [resource('Service', 'a', 1), resource('Service', 'b', 1)], regions: [remote('iad', [['echo', 2]])] });
    const m = mergeViews(full, view({ version: 2, removedResources: ['Service/b'], removedRegions: ['iad'] }));
    assert.equal(m.full, true);
    assert.deepEqual(m.resources!.map((r) => r.name), ['a']);
    assert.deepEqual(m.regions, []);
    assert.deepEqual(m.removedResources, []);
    assert.deepEqual(m.removedRegions, []);
  });
});
