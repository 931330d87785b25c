// A remote region's service table: the Map behaviour its readers rely on
// (get, has, size, keys, entries, iteration), ids shared between regions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegionServices, ServiceIds } from './region-services';

describe('RegionServices', () => {
  it('reads like a Map of the services set, and forgets the deleted ones', () => {
    const t = new RegionServices(new ServiceIds());
    assert.equal(t.size, 0);
    assert.equal(t.get('api'), undefined);
    t.set('api', { healthy: 2, total: 3, load: 7 });
    t.set('web', { healthy: 0, total: 1, load: 0 });
    t.set('api', { healthy: 1, total: 3, load: 4 });
    assert.equal(t.size, 2);
    assert.deepEqual(t.get('api'), { healthy: 1, total: 3, load: 4 });
    assert.equal(t.has('web'), true);
    assert.deepEqual([...t.keys()], ['api', 'web']);
    assert.deepEqual(Object.fromEntries(t), { api: { healthy: 1, total: 3, load: 4 }, web: { healthy: 0, total: 1, load: 0 } });
    assert.equal(t.delete('api'), true);
    assert.equal(t.delete('api'), false);
    assert.equal(t.delete('never'), false);
    assert.equal(t.get('api'), undefined);
    assert.equal(t.has('api'), false);
    assert.equal(t.size, 1);
    assert.deepEqual([...t.entries()], [['web', { healthy: 0, total: 1, load: 0 }]]);
  });

  it('regions share the name table; each keeps its own counts, across growth', () => {
    const ids = new ServiceIds();
    const ams = new RegionServices(ids);
    const par = new RegionServices(ids);
    for (let i = 0; i < 1000; i++) ams.set(`svc-${i}`, { healthy: 1, total: 1, load: i });
    par.set('svc-999', { healthy: 4, total: 4, load: 0 });
    assert.equal(ids.names.length, 1000, 'one id per name');
    assert.equal(ams.size, 1000);
    assert.equal(par.size, 1);
    assert.deepEqual(ams.get('svc-500'), { healthy: 1, total: 1, load: 500 });
    assert.deepEqual(par.get('svc-999'), { healthy: 4, total: 4, load: 0 });
    assert.equal(par.get('svc-500'), undefined, 'a name known to another region only');
    assert.equal(ams.keys().next().value, 'svc-0');
    // Counts are uint32 on the wire; the table keeps the whole range.
    ams.set('svc-0', { healthy: 4_294_967_295, total: 4_294_967_295, load: 4_294_967_295 });
    assert.deepEqual(ams.get('svc-0'), { healthy: 4_294_967_295, total: 4_294_967_295, load: 4_294_967_295 });
  });
});
