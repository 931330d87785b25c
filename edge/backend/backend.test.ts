// A backend opens connection pools to its instances only when a request goes
// to them: an edge in a region with thousands of services does not hold
// thousands of idle pools (the control-plane bench's edge-memory figure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyView, type EdgeView, type LocalInstance } from '../config/edge-view';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { Backend, type BackendDeps } from './backend';

function viewWith(instances: LocalInstance[]): EdgeView {
  return { ...emptyView('fra', 'static'), instances: new Map([['api', instances]]) };
}

const instance = (i: number): LocalInstance => ({ id: `api-${i}`, service: 'api', address: '127.0.0.1', port: 10_000 + i, weight: 1, labels: {}, healthy: true });

function fakePools() {
  const opened: string[] = [];
  const closed: string[] = [];
  const deps: BackendDeps = {
    mode: 'edge',
    localRegion: 'fra',
    createInstancePool: (address, port): UpstreamDispatcher => {
      opened.push(`${address}:${port}`);
      return { dispatch: () => true, close: async () => void closed.push(`${address}:${port}`), destroy: async () => undefined };
    },
    ingressPools: {} as never,
    logger: {} as never,
  };
  return { deps, opened, closed };
}

describe('Backend endpoints', () => {
  it('knows a thousand instances without opening a pool, and opens one for the instance a request goes to', () => {
    const { deps, opened } = fakePools();
    const backend = new Backend('api', {} as never, deps);
    backend.update(viewWith(Array.from({ length: 1000 }, (_, i) => instance(i))));
    assert.equal(backend.balancer.size(), 1000);
    assert.deepEqual(opened, []);
    const e = backend.balancer.pick(0, null)!;
    assert.equal(e.dispatcher, e.dispatcher, 'one pool per endpoint');
    assert.deepEqual(opened, [e.key]);
  });

  it('closes the pools it opened when their instances leave, and only those', async () => {
    const { deps, opened, closed } = fakePools();
    const backend = new Backend('api', {} as never, deps);
    backend.update(viewWith([instance(1), instance(2), instance(3)]));
    const used = backend.balancer.pick(0, null)!;
    void used.dispatcher;
    backend.update(viewWith([instance(4)]));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(opened, [used.key]);
    assert.deepEqual(closed, [used.key]);
  });
});
