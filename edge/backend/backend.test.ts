// A backend opens connection pools to its instances only when a request goes
// to them: an edge in a region with thousands of services does not hold
// thousands of idle pools (the control-plane bench's edge-memory figure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyView, type EdgeView, type LocalInstance } from '../config/edge-view';
import { Pool } from 'undici';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { classifyUpstreamError } from '../upstream/upstream-error';
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

  it('an endpoint a view removed before its pool was opened refuses a late try as a connect failure, and leaves no pool open', async () => {
    let pool: Pool | undefined;
    const deps: BackendDeps = {
      ...fakePools().deps,
      createInstancePool: (address, port) => (pool = new Pool(`http://${address}:${port}`)),
    };
    const backend = new Backend('api', {} as never, deps);
    backend.update(viewWith([instance(1)]));
    // Picked for a try (a retry waiting out its backoff), then the view drops it.
    const stale = backend.balancer.pick(0, null)!;
    backend.update(viewWith([]));
    // Thrown, or handed to the handler: exchange.ts takes both as the try's error.
    const err = await new Promise<Error>((resolve) => {
      try {
        stale.dispatcher.dispatch(
          { path: '/', method: 'GET' },
          { onResponseError: (_c: unknown, e: Error) => resolve(e), onResponseStart: () => resolve(new Error('answered')) } as never,
        );
      } catch (e) {
        resolve(e as Error);
      }
    });
    assert.equal(classifyUpstreamError(err), 'connect-failure', `${(err as { code?: string }).code}: nothing was sent`);
    assert.equal(pool?.closed, true);
  });
});
