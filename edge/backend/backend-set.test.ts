// A view update costs what it changed: the discovery source's views say which
// services moved (ViewState changes) and BackendSet updates only those
// backends. Checked against a full rebuild of the same view. Backends are
// built on a service's first request (get()): most tests build them all
// first, so that the incremental updates have every backend to keep right.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyViewMessage } from '../config/apply-view-message';
import type { EdgeView, LocalInstance, RemoteRegion, RemoteServiceState } from '../config/edge-view';
import { ViewState } from '../config/view-state';
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import { EdgeMetrics } from '../observability/edge-metrics';
import { Backend, type BackendDeps } from './backend';
import { BackendSet } from './backend-set';

const instance = (service: string, n: number, healthy = true): LocalInstance => ({
  id: `${service}-${n}`,
  service,
  address: '127.0.0.1',
  port: 20_000 + n,
  weight: 1,
  labels: {},
  healthy,
});

function region(name: string, services: string[], fields: Partial<RemoteRegion> = {}): RemoteRegion {
  const map = new Map<string, RemoteServiceState>();
  for (const s of services) map.set(s, { healthy: 1, total: 1, load: 0 });
  return { name, latitude: 0, longitude: 0, ingressAddress: `${name}.ingress:443`, reachable: true, rttMs: name === 'ams' ? 10 : 20, services: map, ...fields };
}

function makeSet(mode: 'edge' | 'ingress' = 'edge', metrics: EdgeMetrics = { forService: () => ({}) } as never) {
  const retained: string[][] = [];
  const down: string[][] = [];
  const closed: string[] = [];
  const deps: BackendDeps = {
    mode,
    localRegion: 'fra',
    createInstancePool: (address, port) => ({ dispatch: () => true, close: async () => void closed.push(`${address}:${port}`), destroy: async () => undefined }),
    ingressPools: {
      get: () => ({ dispatch: () => true, close: async () => undefined, destroy: async () => undefined }),
      retain: (r: ReadonlySet<string>) => void retained.push([...r].sort()),
      pathsDown: (r: Iterable<string>) => void down.push([...r].sort()),
    } as never,
    logger: {} as never,
  };
  const set = new BackendSet(deps, metrics);
  return { set, retained, down, closed };
}

// Builds the backend of every service the view names (as requests would).
function buildAll(set: BackendSet): void {
  for (const name of set.names()) assert.ok(set.get(name), name);
}

// Counts Backend.update calls per service while fn runs.
function countUpdates(fn: () => void): Map<string, number> {
  const counts = new Map<string, number>();
  const original = Backend.prototype.update;
  Backend.prototype.update = function (this: Backend, view: EdgeView) {
    counts.set(this.name, (counts.get(this.name) ?? 0) + 1);
    original.call(this, view);
  };
  try {
    fn();
  } finally {
    Backend.prototype.update = original;
  }
  return counts;
}

function stateWith(n: number, remotes: string[]): ViewState {
  const state = new ViewState('fra', 'discovery');
  const names = Array.from({ length: n }, (_, i) => `svc-${i}`);
  for (const s of names) state.setInstances(s, [instance(s, 0)]);
  for (const r of remotes) state.setRemoteRegion(region(r, names));
  return state;
}

const planOf = (b: Backend | undefined) => b?.plan.map((t) => `${t.name}${t.local ? '' : `:${t.healthy}`}`).join(',');

// Every backend `set` has built against one built afresh from the same view
// (undefined there: the view no longer names the service, so `set` should
// have dropped it).
function assertSameAsFull(set: BackendSet, view: EdgeView): void {
  const fresh = makeSet().set;
  fresh.apply({ ...view, changes: undefined });
  const describe = (b: Backend | undefined) => b && `${b.name} ${planOf(b)} ${b.balancer.size()}`;
  const built = [...set.all()];
  assert.ok(built.length > 0, 'backends to compare');
  assert.deepEqual(built.map(describe).sort(), built.map((b) => describe(fresh.get(b.name))).sort());
}

const partialMessage = (version: number, name: string, services: { service: string; healthy: number }[], removed: string[] = []): View__Output =>
  ({
    version: String(version),
    full: false,
    region: 'fra',
    resources: [],
    removedResources: [],
    instances: [],
    instanceServices: [],
    regions: [
      {
        name,
        latitude: 0,
        longitude: 0,
        ingressAddress: `${name}.ingress:443`,
        reachable: true,
        rttMs: name === 'ams' ? 10 : 20,
        services: services.map((s) => ({ service: s.service, healthy: s.healthy, total: 1, load: 0 })),
        relayVia: '',
        relayIngressAddress: '',
        servicesPartial: true,
        removedServices: removed,
      },
    ],
    removedRegions: [],
  }) as unknown as View__Output;

describe('BackendSet incremental updates', () => {
  it('one service instance change updates that backend only', () => {
    const state = stateWith(1000, ['ams', 'par']);
    const { set } = makeSet();
    assert.equal(countUpdates(() => set.apply(state.snapshot())).size, 0, 'no backend before a request');
    assert.equal(countUpdates(() => buildAll(set)).size, 1000);

    const untouched = set.get('svc-1')!;
    const untouchedPlan = untouched.plan;
    const changedBefore = set.get('svc-5')!.plan;
    state.setInstances('svc-5', [instance('svc-5', 0, false), instance('svc-5', 1), instance('svc-5', 2)]);
    const view = state.snapshot();
    assert.equal(view.changes?.all, false);
    assert.deepEqual([...view.changes!.services], ['svc-5']);
    const counts = countUpdates(() => set.apply(view));
    assert.deepEqual([...counts], [['svc-5', 1]], 'Backend.update for the changed service only');
    assert.equal(set.lastUpdates, 1);
    assert.equal(set.get('svc-5')!.balancer.size(), 2, 'the new healthy endpoints');
    assert.notEqual(set.get('svc-5')!.plan, changedBefore);
    assert.equal(set.get('svc-1'), untouched);
    assert.equal(set.get('svc-1')!.plan, untouchedPlan, 'an unchanged backend keeps its plan object');
    assertSameAsFull(set, view);
  });

  it('one service changed in one remote region (partial) updates that backend only', () => {
    const state = stateWith(1000, ['ams', 'par']);
    const { set } = makeSet();
    set.apply(state.snapshot());
    buildAll(set);
    const untouchedPlan = set.get('svc-1')!.plan;
    assert.equal(planOf(set.get('svc-7')), 'fra,ams:1,par:1');

    applyViewMessage(state, partialMessage(2, 'ams', [{ service: 'svc-7', healthy: 0 }]));
    const view = state.snapshot();
    assert.deepEqual([...view.changes!.services], ['svc-7']);
    assert.deepEqual([...view.changes!.regions], ['ams']);
    const counts = countUpdates(() => set.apply(view));
    assert.deepEqual([...counts], [['svc-7', 1]]);
    assert.equal(planOf(set.get('svc-7')), 'fra,par:1', 'ams reports no healthy instance of svc-7 any more');
    assert.equal(set.get('svc-1')!.plan, untouchedPlan);
    assert.equal(planOf(set.get('svc-1')), 'fra,ams:1,par:1');
    assert.equal(view.remoteRegions.get('ams')!.services.size, 1000, 'the partial region merged, not replaced');
    assertSameAsFull(set, view);

    // The same change sent again (whole region, no services_partial): nothing moved.
    state.setRemoteRegion(view.remoteRegions.get('ams')!);
    const again = state.snapshot();
    assert.equal(countUpdates(() => set.apply(again)).size, 0);
  });

  it('a remote region whose reachability changes updates every service in it; new and gone services', () => {
    const state = stateWith(50, ['ams', 'par']);
    state.setRemoteRegion(region('lis', ['svc-0', 'svc-1']));
    const { set, down } = makeSet();
    set.apply(state.snapshot());
    buildAll(set);

    state.setRemoteRegion(region('lis', ['svc-0', 'svc-1'], { reachable: false }));
    let view = state.snapshot();
    assert.deepEqual(new Set(countUpdates(() => set.apply(view)).keys()), new Set(['svc-0', 'svc-1']));
    assert.equal(planOf(set.get('svc-0')), 'fra,ams:1,par:1');
    assert.deepEqual(down.at(-1), ['lis'], 'pathsDown still runs on an incremental update');
    assertSameAsFull(set, view);

    // A region's own field (RTT) moving reorders every service in it.
    state.setRemoteRegion({ ...view.remoteRegions.get('par')!, rttMs: 5 });
    view = state.snapshot();
    assert.equal(countUpdates(() => set.apply(view)).size, 50);
    assert.equal(planOf(set.get('svc-3')), 'fra,par:1,ams:1');
    assertSameAsFull(set, view);

    // A service only a remote region names appears; one with no instance anywhere goes.
    applyViewMessage(state, partialMessage(3, 'ams', [{ service: 'only-ams', healthy: 1 }]));
    state.setInstances('local-only', [instance('local-only', 0)]);
    view = state.snapshot();
    set.apply(view);
    assert.equal(planOf(set.get('only-ams')), 'ams:1');
    assert.ok(set.get('local-only'));
    state.setInstances('local-only', []);
    applyViewMessage(state, partialMessage(4, 'ams', [], ['only-ams']));
    view = state.snapshot();
    set.apply(view);
    assert.equal(set.get('only-ams'), undefined);
    assert.equal(set.built('only-ams'), undefined, 'its backend dropped');
    assert.equal(set.get('local-only'), undefined);
    assert.equal(set.built('local-only'), undefined);
    assertSameAsFull(set, view);

    // Removing a region updates the services it had.
    state.removeRemoteRegion('par');
    view = state.snapshot();
    assert.equal(countUpdates(() => set.apply(view)).size, 50);
    assertSameAsFull(set, view);
  });

  it('rebuilds everything for a view that is not the successor of the one applied', () => {
    const state = stateWith(20, ['ams']);
    const { set } = makeSet();
    set.apply(state.snapshot());
    buildAll(set);
    state.setInstances('svc-1', [instance('svc-1', 3)]);
    state.snapshot(); // never applied
    state.setInstances('svc-2', [instance('svc-2', 3)]);
    const view = state.snapshot();
    assert.equal(countUpdates(() => set.apply(view)).size, 20);
    assertSameAsFull(set, view);
    // A hand-made view (memory source, static file) has no changes: all.
    assert.equal(countUpdates(() => set.apply({ ...view, changes: undefined })).size, 20);
  });

  it('measures a one-service update at 10,000 services x 9 remote regions: full vs incremental', (t) => {
    const remotes = ['r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r07', 'r08', 'r09'];
    const state = stateWith(10_000, remotes);
    const { set } = makeSet();
    set.apply(state.snapshot());
    buildAll(set);
    const rounds = 5;
    const time = (incremental: boolean): number => {
      const samples: number[] = [];
      set.apply(state.snapshot()); // the base the next changes are relative to
      for (let i = 0; i < rounds; i++) {
        state.setInstances('svc-42', [instance('svc-42', i + 1)]);
        const view = state.snapshot();
        const t0 = performance.now();
        set.apply(incremental ? view : { ...view, changes: undefined });
        samples.push(performance.now() - t0);
        assert.equal(set.lastUpdates, incremental ? 1 : 10_000);
      }
      return samples.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
    };
    const full = time(false);
    const incremental = time(true);
    // The whole path of one discovery message: apply it to the state, snapshot, apply the view.
    const t0 = performance.now();
    applyViewMessage(state, partialMessage(9, 'r03', [{ service: 'svc-99', healthy: 0 }]));
    set.apply(state.snapshot());
    const message = performance.now() - t0;
    assert.equal(set.lastUpdates, 1);
    t.diagnostic(`one partial remote-region message end to end (applyViewMessage + snapshot + BackendSet.apply): ${message.toFixed(2)} ms`);
    t.diagnostic(`one-service update at 10,000 services x 9 remote regions: full rebuild ${full.toFixed(1)} ms, incremental ${incremental.toFixed(3)} ms (median of ${rounds})`);
    assert.ok(incremental < full / 10, `incremental ${incremental} ms vs full ${full} ms`);
  });
});

describe('BackendSet builds a backend on its service first request', () => {
  it('builds only for a service the view names, from the view in force; keeps it updated; drops it with the service', () => {
    const state = stateWith(3, ['ams']);
    const { set, closed } = makeSet();
    set.apply(state.snapshot());
    assert.equal([...set.all()].length, 0, 'a view builds nothing');
    assert.equal(set.get('made-up'), undefined, 'a name the view does not have');
    assert.equal(set.built('made-up'), undefined);

    const b = set.get('svc-0')!;
    assert.equal(planOf(b), 'fra,ams:1');
    void b.balancer.list()[0]!.dispatcher; // its pool, as a request opens it
    assert.equal(set.get('svc-0'), b, 'built once');
    assert.deepEqual([...set.all()].map((x) => x.name), ['svc-0']);

    // A change to a service not built costs nothing; its first request sees it.
    state.setInstances('svc-1', [instance('svc-1', 7)]);
    set.apply(state.snapshot());
    assert.equal(set.lastUpdates, 0);
    assert.equal(set.built('svc-1'), undefined);
    assert.equal(set.get('svc-1')!.balancer.list()[0]!.port, 20_007, 'built from the view in force');

    // A change to a built one updates it.
    applyViewMessage(state, partialMessage(2, 'ams', [{ service: 'svc-0', healthy: 0 }]));
    set.apply(state.snapshot());
    assert.equal(set.lastUpdates, 1);
    assert.equal(planOf(set.get('svc-0')), 'fra');

    // Gone from this region and every other: dropped, its pool closed.
    state.setInstances('svc-0', []);
    applyViewMessage(state, partialMessage(3, 'ams', [], ['svc-0']));
    set.apply(state.snapshot());
    assert.equal(set.built('svc-0'), undefined);
    assert.equal(set.get('svc-0'), undefined);
    assert.deepEqual(closed, ['127.0.0.1:20000']);
    assertSameAsFull(set, state.snapshot());
  });

  it('a service only remote regions name has a backend at an edge, not at an ingress', () => {
    const state = new ViewState('fra', 'discovery');
    state.setRemoteRegion(region('ams', ['remote-only']));
    for (const mode of ['edge', 'ingress'] as const) {
      const { set } = makeSet(mode);
      set.apply(state.snapshot());
      assert.equal(set.get('remote-only') !== undefined, mode === 'edge', mode);
    }
  });

  it('metrics: a built backend has its series; a /v1/view summary of one not built adds none', async () => {
    const metrics = new EdgeMetrics();
    const { set } = makeSet('edge', metrics);
    set.apply(stateWith(3, ['ams']).snapshot());
    set.get('svc-0');
    const summary = set.summary('svc-2', performance.now()) as { regions: { name: string }[] };
    assert.deepEqual(summary.regions.map((r) => r.name), ['fra', 'ams']);
    assert.equal(set.built('svc-2'), undefined, 'the summary built nothing that stays');
    const text = await metrics.registry.metrics();
    assert.match(text, /meridian_edge_in_flight\{[^}]*service="svc-0"[^}]*\} 0/);
    assert.doesNotMatch(text, /service="svc-[12]"/);
  });
});
