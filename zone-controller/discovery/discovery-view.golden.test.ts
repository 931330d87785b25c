// Golden files for what a proxy receives on the discovery stream, as it
// crosses the wire (the view's parts encoded with the Watch method's own
// serializer, and decoded as a proxy does): testdata/golden/*.json next to
// this file. The region is fra; iad and sin report their counts; the tunnel
// to sin is down, so sin is reached through iad.
//
// After an intended change to the wire, rewrite them and review the diff:
//   npx tsc -p tsconfig.json && UPDATE_GOLDEN=1 node --test dist/zone-controller/discovery/discovery-view.golden.test.js
// (or `npm run golden:update` for every golden file).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { discoveryProto } from '../../lib/grpc/protos';
import type { ResourceDocument } from '../../lib/resources';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import type { RegionStatus__Output } from '../../proto/generated/meridian/federation/v1/RegionStatus';
import type { ServiceHealth__Output } from '../../proto/generated/meridian/federation/v1/ServiceHealth';
import { assertGolden, goldenDir, goldenText } from '../../test-support/golden';
import { GlobalState, type HeldResource } from '../state/global-state';
import { InstanceRegistry } from '../registry/instance-registry';
import { DiscoveryView } from './discovery-view';
import { encodedViewParts, withEncodedWatch } from './encoded-view';

const golden = goldenDir(__dirname);

const { service, serializeView } = withEncodedWatch(discoveryProto().meridian.discovery.v1.Discovery.service);
const deserializeView = service.Watch!.responseDeserialize;
// The messages a proxy decodes for one view.
function onTheWire(view: View): string {
  return goldenText(encodedViewParts(view, serializeView).map((bytes) => deserializeView(bytes)));
}

function held(kind: string, name: string, modRevision: number, spec: unknown): HeldResource {
  const document = { apiVersion: 'meridian.dev/v1', kind, metadata: { name, resourceVersion: String(modRevision) }, spec } as unknown as ResourceDocument;
  return { kind, name, document, modRevision };
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----\n(test certificate)\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\n(test key)\n-----END PRIVATE KEY-----\n';

const resources: HeldResource[] = [
  held('Region', 'fra', 1, { location: { latitude: 50.11, longitude: 8.68 } }),
  held('Region', 'iad', 2, { location: { latitude: 38.95, longitude: -77.45 } }),
  held('Region', 'sin', 3, { location: { latitude: 1.35, longitude: 103.99 } }),
  held('Service', 'echo', 4, { hosts: ['echo.example.com'] }),
  held('Service', 'echo-v2', 5, { ports: [{ name: 'http', port: 80, protocol: 'http' }] }),
  held('TrafficRoute', 'echo-canary', 6, { service: 'echo', rules: [{ split: [{ service: 'echo-v2', weight: 10 }, { service: 'echo', weight: 90 }] }] }),
  held('ResiliencePolicy', 'echo', 7, { service: 'echo', retries: { attempts: 2, budgetPercent: 20 }, timeouts: { request: '30s' } }),
  held('FailoverPolicy', 'echo', 8, { service: 'echo', rules: [{ from: 'fra', regions: ['fra', 'sin', 'iad'] }] }),
  held('TrafficPermission', 'echo', 9, { service: 'echo', allow: [{ identity: 'spiffe://meridian.local/region/*/edge/*' }] }),
  // With its key: sent. Without (held since a restart): kept by name.
  held('Certificate', 'shop', 10, { hosts: ['shop.example.com'], certificate: PEM_CERTIFICATE, privateKey: PEM_KEY }),
  held('Certificate', 'www', 11, { hosts: ['www.example.com'], certificate: PEM_CERTIFICATE }),
  // Not for proxies: instances reach them from the registry.
  held('Instance', 'echo-static', 12, { service: 'echo', region: 'fra', address: '127.0.0.1', port: 9009 }),
];

function health(service: string, healthy: number, total: number, load = 0): ServiceHealth__Output {
  return { service, healthy, total, load };
}

function regionStatus(region: string, index: number, services: ServiceHealth__Output[], peers: { region: string; up: boolean; rttMs: number }[]): RegionStatus__Output {
  return {
    region,
    online: true,
    lastHeartbeatAtMs: 1_767_225_600_000,
    ingressAddress: `10.99.0.${index}:7600`,
    dnsAddress: `10.99.0.${index}:53`,
    tunnel: null,
    services,
    peers: peers.map((p) => ({ ...p, lastHandshakeAtMs: 1_767_225_590_000 })),
    edges: [],
    servicesPartial: false,
    removedServices: [],
  };
}

function setup() {
  const state = new GlobalState(undefined);
  state.replaceAll(20, resources);
  state.applyRegions(true, [
    regionStatus('iad', 2, [health('echo', 2, 2, 3), health('echo-v2', 1, 1)], [{ region: 'sin', up: true, rttMs: 210.4 }]),
    regionStatus('sin', 3, [health('echo', 1, 2)], [{ region: 'iad', up: true, rttMs: 210.4 }]),
  ], []);
  const registry = new InstanceRegistry();
  registry.register({ id: 'echo-fra-1', service: 'echo', address: '10.0.1.11', port: 9001, labels: { version: 'v1' }, ports: { admin: 9101 } });
  registry.register({ id: 'echo-fra-2', service: 'echo', address: '10.0.1.12', port: 9001, weight: 2 });
  registry.register({ id: 'echo-v2-fra-1', service: 'echo-v2', address: '10.0.1.21', port: 9001, labels: { version: 'v2' } });
  registry.setHealth('echo-fra-1', true);
  registry.setHealth('echo-v2-fra-1', true);
  const peers: Record<string, { up: boolean; rttMs: number }> = { iad: { up: true, rttMs: 80.4 }, sin: { up: false, rttMs: 0 } };
  const view = new DiscoveryView('fra', state, registry, 10, { peer: (r) => peers[r] });
  view.withCertificates = true;
  return { state, registry, view };
}

describe('discovery view on the wire (golden)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('the full view a proxy gets on connect', () => {
    const { view } = setup();
    assertGolden(golden, 'full-view.json', onTheWire(view.full()));
    view.stop();
  });

  it('one update for a batch of changes: an instance, a route changed, a policy deleted, a region count', () => {
    const { state, registry, view } = setup();
    const updates: View[] = [];
    view.on('update', (u) => updates.push(u));

    registry.register({ id: 'echo-fra-3', service: 'echo', address: '10.0.1.13', port: 9001 });
    registry.setHealth('echo-fra-2', true);
    state.applyChanges(21, [held('TrafficRoute', 'echo-canary', 21, { service: 'echo', rules: [{ split: [{ service: 'echo-v2', weight: 50 }, { service: 'echo', weight: 50 }] }] })], [{ kind: 'FailoverPolicy', name: 'echo' }]);
    state.applyRegions(false, [{ ...regionStatus('iad', 2, [health('echo', 1, 2, 5)], [{ region: 'sin', up: true, rttMs: 210.4 }]), servicesPartial: true, removedServices: ['echo-v2'] }], []);
    mock.timers.tick(10);

    assert.equal(updates.length, 1, 'the batch goes as one update');
    assertGolden(golden, 'update.json', onTheWire(updates[0]!));
    view.stop();
  });
});
