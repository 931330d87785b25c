// The anycast side of the edge without BIRD: when it announces (policy),
// what it renders from the Region resource, and the controller's calls to
// BIRD (a recording stand-in for BirdControl) through health changes and a
// drain. netns-tests/scenarios.test.ts runs it against real BIRD.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BirdControl } from '../../lib/net/bird-control';
import { silentLogger } from '../../lib/observability/logger';
import type { RegionResource } from '../../lib/resources';
import { startGateway, viewOf } from '../testing/gateway-harness';
import { doc, instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { AnycastController } from './anycast-controller';
import { parseAnycastOptions, type AnycastOptions } from './anycast-options';
import { evaluateAnnounce, type AnnounceInputs } from './announce-policy';
import { birdSettings, timersFor } from './bird-settings';

const BGP = { localAsn: 65101, anycast: ['203.0.113.10'], neighbors: [{ address: '10.255.1.1', asn: 65001, bfd: true }] };
const fraRegion = (bgp: unknown = BGP) => doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 }, ...(bgp ? { bgp } : {}) });

function options(extra: Partial<AnycastOptions> = {}): AnycastOptions {
  const o = parseAnycastOptions({ 'bird-socket': '/run/bird.ctl', 'bird-config': '/etc/bird.conf', 'bgp-router-id': '10.1.0.1' }, (m) => new Error(m))!;
  return { ...o, withdrawWaitMs: 0, ...extra };
}

describe('anycast: announce policy', () => {
  const view = viewOf([serviceDoc('echo'), instanceDoc('echo-1', 'echo', 9001)], 'fra');
  const base: AnnounceInputs = { listenerUp: true, draining: false, freshness: { kind: 'static' }, view, now: 100_000, staleAfterMs: 10_000 };

  it('healthy with a listener, a fresh view and a healthy instance', () => {
    assert.deepEqual(evaluateAnnounce(base), { healthy: true, reason: 'ok (echo in fra)' });
  });

  it('not while draining, without a listener, or with nothing to serve', () => {
    assert.equal(evaluateAnnounce({ ...base, draining: true }).healthy, false);
    assert.equal(evaluateAnnounce({ ...base, listenerUp: false }).healthy, false);
    const empty = viewOf([serviceDoc('echo')], 'fra');
    assert.equal(evaluateAnnounce({ ...base, view: empty }).reason, 'no reachable region has a healthy instance of any service');
  });

  it('a reachable remote region with a healthy instance is enough; an unreachable one is not', () => {
    const empty = viewOf([serviceDoc('echo')], 'fra');
    const iad = { name: 'iad', latitude: 0, longitude: 0, ingressAddress: '10.99.0.2:7600', reachable: true, rttMs: 80, services: new Map([['echo', { healthy: 2, total: 2, load: 0 }]]) };
    assert.equal(evaluateAnnounce({ ...base, view: { ...empty, remoteRegions: new Map([['iad', iad]]) } }).reason, 'ok (echo in iad)');
    assert.equal(evaluateAnnounce({ ...base, view: { ...empty, remoteRegions: new Map([['iad', { ...iad, reachable: false }]]) } }).healthy, false);
  });

  it('discovery: fresh while connected or recently heard from, stale after that', () => {
    const d = (connected: boolean, lastMessageAtMs: number) => ({ ...base, freshness: { kind: 'discovery' as const, connected, haveFullView: true, lastMessageAtMs } });
    assert.equal(evaluateAnnounce(d(true, 0)).healthy, true, 'connected, however quiet');
    assert.equal(evaluateAnnounce(d(false, 95_000)).healthy, true, 'disconnected 5 s ago');
    assert.match(evaluateAnnounce(d(false, 80_000)).reason, /^discovery stale/);
    assert.equal(evaluateAnnounce({ ...base, freshness: { kind: 'discovery', connected: true, haveFullView: false, lastMessageAtMs: 0 } }).healthy, false);
  });
});

describe('anycast: BIRD settings from the Region resource', () => {
  it('neighbors, ASN and addresses from spec.bgp; router id and timers from the flags', () => {
    const region = viewOf([fraRegion()], 'fra').regions.get('fra') as RegionResource;
    const s = birdSettings(region, options({ originate: ['10.1.0.0/24'], holdTimeSeconds: 3 }));
    assert.notEqual(typeof s, 'string');
    assert.deepEqual(s, {
      routerId: '10.1.0.1',
      localAs: 65101,
      neighbors: [{ name: 'up_10_255_1_1', address: '10.255.1.1', as: 65001, bfd: true }],
      timers: { holdTime: 3, keepaliveTime: 1, connectRetryTime: 1, errorWaitTime: [1, 2] },
      log: 'stderr',
      anycast: ['203.0.113.10/32'],
      originate: ['10.1.0.0/24'],
    });
    assert.deepEqual(timersFor(9), { holdTime: 9, keepaliveTime: 3, connectRetryTime: 3, errorWaitTime: [3, 6] });
  });

  it('--anycast overrides the resource; no Region or no spec.bgp is a reason, not a config', () => {
    const region = viewOf([fraRegion()], 'fra').regions.get('fra') as RegionResource;
    assert.deepEqual((birdSettings(region, options({ anycast: ['198.51.100.7'] })) as { anycast: string[] }).anycast, ['198.51.100.7/32']);
    assert.equal(birdSettings(undefined, options()), 'no Region resource for this region in the view yet');
    const bare = viewOf([fraRegion(null)], 'fra').regions.get('fra') as RegionResource;
    assert.equal(birdSettings(bare, options()), 'Region fra has no spec.bgp');
  });

  it('flags: socket and config together; the rest needs them', () => {
    const fail = (m: string) => new Error(m);
    assert.equal(parseAnycastOptions({}, fail), undefined);
    assert.throws(() => parseAnycastOptions({ 'bird-socket': '/x' }, fail), /go together/);
    assert.throws(() => parseAnycastOptions({ anycast: ['203.0.113.10'] }, fail), /--anycast needs --bird-socket/);
    assert.throws(() => parseAnycastOptions({ 'bird-socket': '/x', 'bird-config': '/y', 'bgp-hold-time': '2' }, fail), /--bgp-hold-time/);
    assert.throws(() => parseAnycastOptions({ 'bird-socket': '/x', 'bird-config': '/y', 'bgp-originate': ['10.1.0.1/24'] }, fail), /--bgp-originate/);
  });
});

// Records what BIRD would be told.
class RecordingBird {
  readonly configs: string[] = [];
  fail = false;
  async apply(text: string): Promise<void> {
    if (this.fail) throw new Error('birdc: connection refused');
    this.configs.push(text);
  }
  async writeConfig(text: string): Promise<void> {
    await this.apply(text);
  }
  announced(): boolean {
    return /route 203\.0\.113\.10\/32 via "lo"/.test(this.configs.at(-1) ?? '');
  }
}

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('anycast: the controller', () => {
  it('announces once healthy, withdraws when nothing can be served, and withdraws first when draining', async () => {
    const inst = await TestUpstream.start('echo-1');
    const docs = (withInstance: boolean) => [serviceDoc('echo'), fraRegion(), ...(withInstance ? [instanceDoc('echo-1', 'echo', inst.port)] : [])];
    const h = await startGateway(docs(true), { region: 'fra', name: 'fra-edge', admin: { host: '127.0.0.1', port: 0 } });
    const bird = new RecordingBird();
    const c = new AnycastController(h.gateway, h.source, options(), silentLogger(), bird as unknown as BirdControl);
    const changes: boolean[] = [];
    c.on('change', (a) => changes.push(a));
    h.gateway.addObserver(c);
    try {
      c.onView(h.gateway.currentView());
      c.start();
      await settle();
      assert.equal(c.announcing, true);
      assert.ok(bird.announced(), 'the /32 is in the config BIRD got');
      assert.match(bird.configs[0]!, /neighbor 10\.255\.1\.1 as 65001;/);
      assert.match(bird.configs[0]!, /bfd on;/);
      const health = await fetch(`http://127.0.0.1:${h.gateway.adminAddress()!.port}/healthz`);
      assert.equal(await health.text(), 'ok\nannouncing: true\nanycast: ok (echo in fra)\n');

      // Same view again: BIRD is not bothered.
      const n = bird.configs.length;
      c.evaluate();
      await settle();
      assert.equal(bird.configs.length, n);

      h.setDocs(docs(false));
      await settle();
      assert.equal(c.announcing, false, 'no instance anywhere: withdrawn');
      assert.equal(bird.announced(), false);
      h.setDocs(docs(true));
      await settle();
      assert.equal(c.announcing, true);

      // BIRD away: nothing announced is claimed; retried on the next evaluation.
      bird.fail = true;
      h.setDocs(docs(false));
      await settle();
      assert.equal(c.announcing, false);
      bird.fail = false;
      h.setDocs(docs(true));
      await settle();
      assert.equal(c.announcing, true);

      await c.withdrawForDrain();
      assert.equal(c.announcing, false);
      assert.equal(bird.announced(), false);
      c.evaluate();
      await settle();
      assert.equal(c.announcing, false, 'stays withdrawn once draining');
      assert.deepEqual(changes, [true, false, true, false, true, false]);
    } finally {
      c.close();
      await h.stop();
      await inst.close();
    }
  });
});
