// Controlled mode against a fake Discovery server: the full view, deltas
// applied within milliseconds, and the last view kept when the stream breaks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/observability/logger';
import { createRegistry } from '../../lib/observability/metrics';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import { EdgeGateway } from '../gateway';
import { FakeDiscovery, resourceOf } from '../testing/fake-discovery';
import { get } from '../testing/http-client';
import { doc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { applyViewMessage } from './apply-view-message';
import { DiscoverySource } from './discovery-source';
import { ViewState } from './view-state';

type Doc = { kind: string; metadata: { name: string } };

function instance(id: string, service: string, port: number, healthy = true) {
  return { id, service, address: '127.0.0.1', port, weight: 1, labels: {}, healthy };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, stepMs = 1): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`not true within ${timeoutMs} ms`);
}

describe('controlled mode (discovery stream)', () => {
  let fake: FakeDiscovery;
  let a: TestUpstream;
  let b: TestUpstream;
  let gateway: EdgeGateway;
  let source: DiscoverySource;
  let port: number;

  before(async () => {
    a = await TestUpstream.start('echo-a');
    b = await TestUpstream.start('other-b');
    fake = new FakeDiscovery();
    fake.initial = {
      version: 1,
      full: true,
      region: 'fra',
      resources: [resourceOf(serviceDoc('echo') as Doc), resourceOf(doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } }) as Doc)],
      instances: [instance('echo-a', 'echo', a.port)],
      instanceServices: ['echo'],
      regions: [{ name: 'iad', latitude: 38.95, longitude: -77.45, ingressAddress: '127.0.0.1:1', reachable: true, rttMs: 0, services: [{ service: 'echo', healthy: 2, total: 2, load: 0 }] }],
    };
    await fake.start();
    source = new DiscoverySource({ address: fake.address, region: 'fra', proxy: 'fra-edge-1', mode: 'edge', minBackoffMs: 20, maxBackoffMs: 100 }, silentLogger());
    gateway = new EdgeGateway({
      mode: 'edge',
      name: 'fra-edge-1',
      region: 'fra',
      source,
      http: { host: '127.0.0.1', port: 0 },
      logger: silentLogger(),
      registry: createRegistry('edge', false),
      accessLogSample: 0,
    });
    await gateway.start();
    port = gateway.httpAddress()!.port;
    assert.ok(await source.waitForFirstView(5_000), 'full view received');
  });
  after(async () => {
    await gateway.stop();
    await fake.stop();
    await a.close();
    await b.close();
  });

  it('watches with its region, name and mode, and serves from the full view', async () => {
    const { region, proxy, mode } = fake.requests[0]!;
    assert.deepEqual({ region, proxy, mode }, { region: 'fra', proxy: 'fra-edge-1', mode: 'edge' });
    const r = await get(port, '/', { host: 'echo.mesh' });
    assert.equal(r.status, 200);
    assert.equal(r.json().name, 'echo-a');
    assert.equal(r.headers['x-meridian-region'], 'fra');
    const view = gateway.currentView();
    assert.equal(view.version, 1);
    assert.equal(view.remoteRegions.get('iad')?.services.get('echo')?.healthy, 2);
    assert.deepEqual(gateway.health(), { ok: true, status: 'ok' });
  });

  it('applies an incremental update as it arrives, leaving what it does not name', async (t) => {
    assert.equal((await get(port, '/', { host: 'other.mesh' })).status, 404);
    const sentAt = performance.now();
    fake.send({
      version: 2,
      full: false,
      resources: [resourceOf(serviceDoc('other', { hosts: ['other.example.com'] }) as Doc)],
      instances: [instance('other-b', 'other', b.port)],
      instanceServices: ['other'],
    });
    await until(async () => gateway.currentView().version === 2, 10_000);
    // A few ms on an idle machine: a figure, not a bound (the benches hold propagation goals).
    t.diagnostic(`update applied ${(performance.now() - sentAt).toFixed(2)} ms after the server sent it`);
    const r = await get(port, '/', { host: 'other.example.com' });
    assert.equal(r.json().name, 'other-b');
    // echo untouched by a delta that did not name it.
    assert.equal((await get(port, '/', { host: 'echo.mesh' })).json().name, 'echo-a');
  });

  it('removes resources, replaces instance lists and regions', async () => {
    fake.send({ version: 3, full: false, removedResources: ['Service/other'], instances: [], instanceServices: ['other'], removedRegions: ['iad'] });
    await until(async () => gateway.currentView().version === 3, 2_000);
    assert.equal((await get(port, '/', { host: 'other.example.com' })).status, 404);
    assert.equal(gateway.currentView().remoteRegions.size, 0);
    // An unhealthy instance is not used.
    fake.send({ version: 4, full: false, instances: [instance('echo-a', 'echo', a.port, false)], instanceServices: ['echo'] });
    await until(async () => gateway.currentView().version === 4, 2_000);
    const r = await get(port, '/', { host: 'echo.mesh' });
    assert.equal(r.status, 503);
    assert.equal(r.text, "no healthy instance of service 'echo' in any region\n");
    fake.send({ version: 5, full: false, instances: [instance('echo-a', 'echo', a.port)], instanceServices: ['echo'] });
    await until(async () => gateway.currentView().version === 5, 2_000);
  });

  it('keeps the last view while the stream is broken, and reconnects for a new full view', async () => {
    const servedBefore = a.received.length;
    await fake.stop();
    for (let i = 0; i < 10; i++) assert.equal((await get(port, '/', { host: 'echo.mesh' })).status, 200);
    assert.equal(a.received.length, servedBefore + 10);
    assert.equal(source.status().connected, false);

    // The zone controller comes back on the same port with a new full view.
    fake.initial = { ...fake.initial!, version: 10, resources: [resourceOf(serviceDoc('echo', { hosts: ['back.example.com'] }) as Doc)] } as View;
    await fake.start(fake.port);
    await until(async () => gateway.currentView().version === 10, 5_000, 10);
    assert.equal((await get(port, '/', { host: 'back.example.com' })).status, 200);
    assert.equal(source.status().connected, true);
  });
});

describe('applyViewMessage', () => {
  it('skips invalid resource documents, naming them, and applies the rest', () => {
    const state = new ViewState('fra', 'discovery');
    const bad = { kind: 'Service', name: 'bad', document: Buffer.from(JSON.stringify(serviceDoc('bad', { ports: [{ name: 'http', port: 0 }] }))), modRevision: 1 };
    const notJson = { kind: 'Service', name: 'nj', document: Buffer.from('{nope'), modRevision: 1 };
    const { rejected } = applyViewMessage(state, {
      version: 1,
      full: true,
      region: 'fra',
      resources: [bad, notJson, resourceOf(serviceDoc('good') as Doc)],
      removedResources: [],
      instances: [],
      instanceServices: [],
      regions: [],
      removedRegions: [],
      keptResources: [],
      more: false,
    });
    assert.equal(rejected.length, 2);
    assert.match(rejected[0], /Service\/bad: .*spec\.ports\[0\]\.port: must be an integer from 1 to 65535/);
    assert.match(rejected[1], /Service\/nj: document is not JSON/);
    assert.deepEqual([...state.snapshot().services.keys()], ['good']);
  });

  it('a full view replaces everything, unchanged instance lists keep their identity across deltas', () => {
    const state = new ViewState('fra', 'discovery');
    const msg = (extra: Record<string, unknown>) => ({ version: 1, full: false, region: 'fra', resources: [], removedResources: [], instances: [], instanceServices: [], regions: [], removedRegions: [], keptResources: [], more: false, ...extra });
    applyViewMessage(state, msg({ full: true, resources: [resourceOf(serviceDoc('a') as Doc)], instances: [instance('a1', 'a', 1), instance('b1', 'b', 2)], instanceServices: ['a', 'b'] }));
    // The instances table is updated in place (edge-view.ts): keep the lists.
    const v1 = state.snapshot();
    const [a1, b1] = [v1.instances.get('a'), v1.instances.get('b')];
    applyViewMessage(state, msg({ instances: [instance('a2', 'a', 3)], instanceServices: ['a'] }));
    const v2 = state.snapshot();
    assert.notEqual(v2.instances.get('a'), a1);
    assert.equal(v2.instances.get('b'), b1, 'untouched list is the same array');
    applyViewMessage(state, msg({ full: true, resources: [resourceOf(serviceDoc('z') as Doc)] }));
    const v3 = state.snapshot();
    assert.deepEqual([...v3.services.keys()], ['z']);
    assert.equal(v3.instances.size, 0);
  });
});
