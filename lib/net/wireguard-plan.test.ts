import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { WgPeerDump } from './wireguard-dump';
import { planPeers, planRoutes, wgSetArgs, type DesiredPeer } from './wireguard-plan';

const K1 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const K2 = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';
const K3 = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';

const have = (publicKey: string, over: Partial<WgPeerDump> = {}): WgPeerDump => ({
  publicKey,
  presharedKey: null,
  endpoint: '10.2.0.1:51820',
  allowedIps: ['10.99.0.2/32'],
  latestHandshake: 0,
  rxBytes: 0,
  txBytes: 0,
  persistentKeepalive: 25,
  ...over,
});
const want = (publicKey: string, over: Partial<DesiredPeer> = {}): DesiredPeer => ({
  publicKey,
  endpoint: '10.2.0.1:51820',
  allowedIps: ['10.99.0.2/32'],
  persistentKeepalive: 25,
  ...over,
});

test('adds, updates, removes and leaves alone', () => {
  const plan = planPeers(
    [have(K1), have(K2, { endpoint: '10.9.9.9:1234', allowedIps: ['10.99.0.3/32'] }), have(K3, { allowedIps: ['10.99.0.4/32'] })],
    [want(K1), want(K2, { endpoint: '10.3.0.1:51820', allowedIps: ['10.99.0.3/32'], persistentKeepalive: null })],
  );
  assert.deepEqual(plan.unchanged, [K1]);
  assert.deepEqual(plan.update.map((u) => [u.peer.publicKey, u.changed]), [[K2, ['endpoint', 'persistentKeepalive']]]);
  assert.deepEqual(plan.remove, [K3]);
  assert.deepEqual(plan.add, []);
  assert.deepEqual(wgSetArgs('wg0', plan), ['set', 'wg0', 'peer', K3, 'remove', 'peer', K2, 'endpoint', '10.3.0.1:51820', 'allowed-ips', '10.99.0.3/32', 'persistent-keepalive', 'off']);
});

test('a new peer is added with all its settings; nothing to do gives no command', () => {
  const plan = planPeers([], [want(K1, { allowedIps: ['10.99.1.0/24', '10.99.0.2'] })]);
  assert.deepEqual(plan.add.map((p) => p.allowedIps), [['10.99.0.2/32', '10.99.1.0/24']]);
  assert.deepEqual(wgSetArgs('wg0', plan), ['set', 'wg0', 'peer', K1, 'endpoint', '10.2.0.1:51820', 'allowed-ips', '10.99.0.2/32,10.99.1.0/24', 'persistent-keepalive', '25']);
  assert.equal(wgSetArgs('wg0', planPeers([have(K1)], [want(K1)])), null);
});

test('allowed IPs compare as sets; a peer without endpoint keeps the one it roamed from', () => {
  const plan = planPeers([have(K1, { allowedIps: ['10.99.1.0/24', '10.99.0.2/32'] })], [want(K1, { endpoint: null, allowedIps: ['10.99.0.2/32', '10.99.1.0/24'] })]);
  assert.deepEqual(plan.unchanged, [K1]);
  const cleared = planPeers([have(K1)], [want(K1, { allowedIps: [] })]);
  assert.deepEqual(cleared.update[0]?.changed, ['allowedIps']);
  assert.deepEqual(wgSetArgs('wg0', cleared), ['set', 'wg0', 'peer', K1, 'endpoint', '10.2.0.1:51820', 'allowed-ips', '', 'persistent-keepalive', '25']);
  assert.deepEqual(planPeers([have(K1, { persistentKeepalive: null })], [want(K1, { persistentKeepalive: 0 })]).update[0]?.changed, undefined);
});

test('refuses what wg would take in silence or reject', () => {
  assert.throws(() => planPeers([], [want(K1), want(K1, { allowedIps: ['10.99.0.3/32'] })]), /listed twice/);
  assert.throws(() => planPeers([], [want(K1), want(K2)]), /already peer 0's/);
  assert.throws(() => planPeers([], [want('not-a-key')]), /not a WireGuard key/);
  assert.throws(() => planPeers([], [want(K1, { endpoint: 'example.com:51820' })]), /endpoint/);
  assert.throws(() => planPeers([], [want(K1, { allowedIps: ['10.99.0.1/24'] })]), /host bits set/);
  assert.throws(() => planPeers([], [want(K1, { persistentKeepalive: 70000 })]), /persistentKeepalive/);
});

test('routes: one per allowed IP of the desired peers, the others removed', () => {
  const peers = [want(K1), want(K2, { allowedIps: ['10.99.0.3/32', '10.99.2.0/24'] })];
  assert.deepEqual(planRoutes(['10.99.0.2', '10.99.0.9', '10.99.2.0/24'], peers), { add: ['10.99.0.3/32'], remove: ['10.99.0.9/32'] });
  assert.deepEqual(planRoutes([], []), { add: [], remove: [] });
});
