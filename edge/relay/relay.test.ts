// Relay around a broken link, end to end on loopback: the edge in fra sends
// requests for iad through sin's ingress (the view says fra's tunnel to iad is
// down), sin's ingress forwards them to iad's ingress, which serves locally.
// One relay hop at most: a relayed request is never relayed again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeView } from '../config/edge-view';
import { get } from '../testing/http-client';
import { startGateway, viewOf } from '../testing/gateway-harness';
import { remoteRegion } from '../testing/remote-region';
import { doc, instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { decideRelay } from './relay-decision';
import { RelayTargets } from './relay-targets';
import { remotePath } from './remote-path';

describe('relay: the pieces', () => {
  it('remotePath dials the relay region when the view names one, else the region itself', () => {
    assert.deepEqual(remotePath(remoteRegion('iad', 1, {})), { dialRegion: 'iad', address: '127.0.0.1:1', relayVia: undefined });
    assert.deepEqual(remotePath(remoteRegion('iad', 1, {}, { relayVia: 'sin', relayIngressAddress: '10.99.0.3:7600' })), {
      dialRegion: 'sin',
      address: '10.99.0.3:7600',
      relayVia: 'sin',
    });
    assert.equal(remotePath(remoteRegion('iad', 1, {}, { ingressAddress: '' })), undefined);
  });

  it('an ingress relays only what comes straight from an edge, only to regions it reaches directly', () => {
    const relays = new RelayTargets();
    assert.deepEqual(decideRelay('sin', 2, undefined, 1, relays), { kind: 'local' });
    assert.deepEqual(decideRelay('sin', 2, 'sin', 1, relays), { kind: 'local' });
    assert.equal(decideRelay('sin', 2, 'iad', 2, relays).kind, 'refuse');
    assert.equal((decideRelay('sin', 2, 'iad', 2, relays) as { status: number }).status, 508);
    assert.equal((decideRelay('sin', 2, 'iad', 0, relays) as { status: number }).status, 508, 'not from an edge');
    assert.equal((decideRelay('sin', 1, 'iad', 1, relays) as { status: number }).status, 508, '--max-hops 1 allows no relay');
    assert.equal((decideRelay('sin', 2, 'iad', 1, relays) as { status: number }).status, 502, 'iad not in the relay targets');
  });
});

describe('relay: edge -> relay ingress -> target ingress', () => {
  it('reaches iad through sin while fra has no direct path, and never loops', async () => {
    const iadInstance = await TestUpstream.start('only-iad-1');
    const iad = await startGateway([serviceDoc('only-iad'), instanceDoc('only-iad-1', 'only-iad', iadInstance.port)], { mode: 'ingress', region: 'iad', name: 'iad-ingress' });
    const sinBase = viewOf([serviceDoc('only-iad')], 'sin');
    const sin = await startGateway([serviceDoc('only-iad')], { mode: 'ingress', region: 'sin', name: 'sin-ingress' });
    const regions = [doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
    const edge = await startGateway([serviceDoc('only-iad'), ...regions], { region: 'fra', name: 'fra-edge' });
    try {
      // sin reaches iad directly; a relayed region in sin's own view is never a relay target.
      sin.source.set({ ...sinBase, remoteRegions: new Map([['iad', remoteRegion('iad', iad.port, { 'only-iad': 1 })]]) } as EdgeView);
      const fraBase = viewOf([serviceDoc('only-iad'), ...regions], 'fra');
      edge.source.set({
        ...fraBase,
        remoteRegions: new Map([
          ['iad', remoteRegion('iad', 1, { 'only-iad': 1 }, { relayVia: 'sin', relayIngressAddress: `127.0.0.1:${sin.port}`, rttMs: 40 })],
          ['sin', remoteRegion('sin', sin.port, {})],
        ]),
      });

      const r = await get(edge.port, '/hello', { host: 'only-iad.mesh', headers: { 'x-meridian-target-region': 'nowhere' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-meridian-region'], 'iad');
      assert.equal(r.headers['x-meridian-edge'], 'fra-edge');
      const seen = iadInstance.received.at(-1)!;
      assert.equal(seen.url, '/hello');
      assert.equal(seen.headers['x-meridian-target-region'], undefined, 'the relay header stays inside the mesh');
      assert.equal(String(seen.headers['x-forwarded-for']).split(', ').length, 3, 'client, edge, relay ingress');

      const summary = edge.gateway.viewSummary() as { services: Record<string, { regions: { name: string; relayVia?: string }[] }> };
      assert.deepEqual(summary.services['only-iad']!.regions.map((x) => [x.name, x.relayVia]), [['iad', 'sin']]);

      // Straight to sin's ingress: a request that already passed a relay is refused.
      const looped = await get(sin.port, '/', { host: 'x', headers: { 'x-meridian-service': 'only-iad', 'x-meridian-hop': '2', 'x-meridian-target-region': 'iad' } });
      assert.equal(looped.status, 508);
      // A target sin does not reach directly is refused, not passed on.
      const far = await get(sin.port, '/', { host: 'x', headers: { 'x-meridian-service': 'only-iad', 'x-meridian-hop': '1', 'x-meridian-target-region': 'syd' } });
      assert.equal(far.status, 502);
      // Without a target, sin serves locally only: it has no instance.
      const plain = await get(sin.port, '/', { host: 'x', headers: { 'x-meridian-service': 'only-iad', 'x-meridian-hop': '1' } });
      assert.equal(plain.status, 503);

      // The direct tunnel is back: the edge dials iad itself.
      edge.source.set({ ...fraBase, remoteRegions: new Map([['iad', remoteRegion('iad', iad.port, { 'only-iad': 1 })]]) });
      const direct = await get(edge.port, '/', { host: 'only-iad.mesh' });
      assert.equal(direct.status, 200);
      assert.equal(String(iadInstance.received.at(-1)!.headers['x-forwarded-for']).split(', ').length, 2, 'client, edge');
    } finally {
      await edge.stop();
      await sin.stop();
      await iad.stop();
      await iadInstance.close();
    }
  });

  it('passes on a source identity only from a caller whose word it took: not one a client sent to a listener without mTLS', async () => {
    // What a relay ingress sends to the target region's ingress, as that ingress would see it.
    const target = await TestUpstream.start('iad-ingress-stand-in');
    const sin = await startGateway([serviceDoc('only-iad')], { mode: 'ingress', region: 'sin', name: 'sin-ingress' });
    try {
      sin.source.set({ ...viewOf([serviceDoc('only-iad')], 'sin'), remoteRegions: new Map([['iad', remoteRegion('iad', target.port, { 'only-iad': 1 })]]) } as EdgeView);
      const claimed = 'spiffe://meridian.local/region/iad/service/admin';
      const r = await get(sin.port, '/', {
        host: 'x',
        headers: { 'x-meridian-service': 'only-iad', 'x-meridian-hop': '1', 'x-meridian-target-region': 'iad', 'x-meridian-source-identity': claimed },
      });
      assert.equal(r.status, 200, r.text);
      const seen = target.received.at(-1)!;
      assert.equal(seen.headers['x-meridian-service'], 'only-iad', 'relayed');
      assert.equal(seen.headers['x-meridian-source-identity'], undefined, 'the relay does not vouch for what it did not verify');
    } finally {
      await sin.stop();
      await target.close();
    }
  });
});
