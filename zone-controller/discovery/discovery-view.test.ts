import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DiscoveryView } from './discovery-view';
import { GlobalState } from '../state/global-state';
import { InstanceRegistry } from '../registry/instance-registry';
import type { View, View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import { discoveryProto } from '../../lib/grpc/protos';
import { encodedViewParts, withEncodedWatch } from './encoded-view';
import type { RegionStatus__Output } from '../../proto/generated/meridian/federation/v1/RegionStatus';

const region = (name: string, lat: number, lon: number) => ({
  kind: 'Region',
  name,
  modRevision: 1,
  document: { apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name }, spec: { location: { latitude: lat, longitude: lon } } } as never,
});

function status(name: string, peers: { region: string; up: boolean; rttMs: number }[] = []): RegionStatus__Output {
  return {
    region: name,
    online: true,
    lastHeartbeatAtMs: Date.now(),
    ingressAddress: `10.99.0.${name.length}:7600`,
    dnsAddress: '',
    tunnel: null,
    services: [{ service: 'echo', healthy: 2, total: 2, load: 0 }],
    peers: peers.map((p) => ({ ...p, lastHandshakeAtMs: 0 })),
    edges: [],
    servicesPartial: false,
    removedServices: [],
  };
}

function setup(peers: Record<string, { up: boolean; rttMs: number }>) {
  const state = new GlobalState(undefined);
  state.replaceAll(5, [region('fra', 50.11, 8.68), region('iad', 38.95, -77.45), region('sin', 1.35, 103.99)]);
  const registry = new InstanceRegistry();
  const view = new DiscoveryView('fra', state, registry, 10, { peer: (r) => peers[r] });
  return { state, registry, view };
}

describe('discovery view', () => {
  it('sends the full view, then one batched update one batch window after a local change', async (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    const { registry, view, state } = setup({});
    state.applyRegions(true, [status('iad'), status('sin')], []);
    const full = view.full();
    assert.equal(full.full, true);
    assert.deepEqual(full.regions!.map((r) => r.name), ['iad', 'sin']);
    const updates: { v: View }[] = [];
    view.on('update', (v) => updates.push({ v }));
    const a = registry.register({ service: 'echo', address: '127.0.0.1', port: 9001 });
    registry.register({ service: 'echo', address: '127.0.0.1', port: 9002 });
    registry.setHealth(a.id, true);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    // The batch window is 10 ms.
    mock.timers.tick(9);
    await Promise.resolve();
    assert.equal(updates.length, 0, 'nothing before the window ends');
    mock.timers.tick(1);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.equal(updates.length, 1, 'one update at the end of the window');
    mock.timers.tick(100);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.equal(updates.length, 1, 'three changes, one update');
    assert.deepEqual(updates[0]!.v.instanceServices, ['echo']);
    assert.equal(updates[0]!.v.instances!.length, 2);
    view.stop();
  });

  it('marks a region whose tunnel is down unreachable, and relays through a region that still reaches it', () => {
    const peers: Record<string, { up: boolean; rttMs: number }> = { iad: { up: true, rttMs: 80 }, sin: { up: true, rttMs: 150 } };
    const { state, view } = setup(peers);
    state.applyRegions(true, [status('iad', [{ region: 'sin', up: true, rttMs: 200 }]), status('sin', [{ region: 'iad', up: true, rttMs: 200 }])], []);
    let iad = view.full().regions!.find((r) => r.name === 'iad')!;
    assert.equal(iad.reachable, true);
    assert.equal(iad.rttMs, 80);
    assert.equal(iad.relayVia, '');

    peers.iad = { up: false, rttMs: 0 };
    iad = view.full().regions!.find((r) => r.name === 'iad')!;
    assert.equal(iad.reachable, true, 'reachable through sin');
    assert.equal(iad.relayVia, 'sin');
    assert.equal(iad.relayIngressAddress, '10.99.0.3:7600');
    assert.equal(iad.rttMs, 350);

    // sin loses iad too: no path.
    state.applyRegions(false, [status('sin', [{ region: 'iad', up: false, rttMs: 0 }])], []);
    iad = view.full().regions!.find((r) => r.name === 'iad')!;
    assert.equal(iad.reachable, false);
    view.stop();
  });

  it('passes a document on as the global controller sent it, and stringifies one loaded from disk', () => {
    const { state, view } = setup({});
    const sent = Buffer.from('{"kind":"Region",  "metadata":{"name":"syd"}}');
    state.applyChanges(6, [{ ...region('syd', -33.87, 151.21), text: sent }], []);
    const wire = view.full().resources!;
    assert.equal(wire.find((r) => r.name === 'syd')!.document, sent);
    const fra = wire.find((r) => r.name === 'fra')!;
    assert.deepEqual(JSON.parse(fra.document!.toString()), region('fra', 50.11, 8.68).document);
    view.stop();
  });
});

describe('discovery view: Certificates held without their key', () => {
  const certificate = (withKey: boolean) => ({
    kind: 'Certificate',
    name: 'api',
    modRevision: 9,
    document: {
      apiVersion: 'meridian.dev/v1',
      kind: 'Certificate',
      metadata: { name: 'api' },
      spec: { hosts: ['api.example.com'], certificate: 'CERT', ...(withKey ? { privateKey: 'KEY' } : {}) },
    } as never,
  });

  it('are not sent: a full view names them as kept, an update leaves them out, and the key coming back sends them', async () => {
    const state = new GlobalState(undefined);
    const view = new DiscoveryView('fra', state, new InstanceRegistry(), 10);
    view.withCertificates = true;
    // As after a restart from the state file, which holds no keys.
    state.applyChanges(9, [certificate(false)], []);
    const full = view.full();
    assert.deepEqual(full.keptResources, ['Certificate/api']);
    assert.equal(full.resources!.some((r) => r.kind === 'Certificate'), false);

    const updates: View[] = [];
    view.on('update', (v) => updates.push(v));
    view.flush();
    assert.equal(updates[0]!.resources!.length, 0, 'not sent keyless');
    assert.deepEqual(updates[0]!.removedResources, [], 'nor removed');

    state.replaceAll(10, [certificate(true)]);
    view.flush();
    assert.deepEqual(updates[1]!.resources!.map((r) => `${r.kind}/${r.name}`), ['Certificate/api']);
    assert.deepEqual(view.full().keptResources, []);
    view.stop();
  });
});

describe('discovery view: an instance\'s other ports', () => {
  const { service, serializeView } = withEncodedWatch(discoveryProto().meridian.discovery.v1.Discovery.service);
  // What a proxy decodes.
  const decoded = (view: View): View__Output[] => encodedViewParts(view, serializeView).map((b) => service.Watch!.responseDeserialize(b) as View__Output);

  it('cross the wire in the full view and in the update that changes them', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { registry, view } = setup({});
      registry.register({ id: 'echo-1', service: 'echo', address: '10.0.1.1', port: 9001, ports: { admin: 9101, grpc: 9201 } });
      registry.register({ id: 'echo-2', service: 'echo', address: '10.0.1.2', port: 9001 });
      const [full] = decoded(view.full());
      assert.deepEqual(full!.instances.map((i) => [i.id, i.port, i.ports]), [['echo-1', 9001, { admin: 9101, grpc: 9201 }], ['echo-2', 9001, {}]]);

      mock.timers.tick(10);
      const updates: View[] = [];
      view.on('update', (u) => updates.push(u));
      registry.register({ service: 'echo', address: '10.0.1.1', port: 9001, ports: { admin: 9101, grpc: 9201 } });
      mock.timers.tick(10);
      assert.equal(updates.length, 0, 'the same ports again change nothing');

      registry.register({ service: 'echo', address: '10.0.1.2', port: 9001, ports: { admin: 9102 } });
      mock.timers.tick(10);
      assert.equal(updates.length, 1);
      const [update] = decoded(updates[0]!);
      assert.deepEqual(update!.instances.find((i) => i.id === 'echo-2')?.ports, { admin: 9102 });
      view.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
