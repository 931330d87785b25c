// The regions view the zone holds: a full view (every new stream) changes
// only what differs from what is held, so a reconnect does not resend every
// region whole to the proxies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

describe('GlobalState persistence', () => {
  it('keeps a snapshot as received for proxies, and persists it without that text', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-global-state-'));
    try {
      const file = path.join(dir, 'global-state.json');
      const document = { apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name: 'fra' }, spec: { location: { latitude: 50.11, longitude: 8.68 } } } as never;
      const text = Buffer.from('{"apiVersion":"meridian.dev/v1", "kind":"Region"}');
      const state = new GlobalState(file);
      state.replaceAll(3, [{ kind: 'Region', name: 'fra', document, modRevision: 2, text }]);
      assert.equal(state.resources.get('Region/fra')!.text, text);
      // A snapshot is written a few seconds later, or at once on flush (stop).
      assert.equal(fs.existsSync(file), false);
      await state.flush();
      const onDisk = fs.readFileSync(file, 'utf8');
      assert.doesNotMatch(onDisk, /"text"/);
      const again = new GlobalState(file);
      assert.deepEqual(again.load(), { loaded: true });
      assert.deepEqual(again.resources.get('Region/fra'), { kind: 'Region', name: 'fra', document, modRevision: 2 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
