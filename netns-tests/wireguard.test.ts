// lib/net/wireguard against the real thing, in a pair of namespaces joined
// by a veth: keys that wg accepts, interfaces brought up, peers reconciled
// (and reconciled again without change), a ping across the tunnel, the
// handshake reported, and a removed peer that no longer gets through.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../lib/net/exec';
import { bringDown, bringUp, generateKeyPair, peerStatus, publicKeyOf, reconcilePeers, wireguardGoPids, writePrivateKeyFile, type DesiredPeer } from '../lib/net/wireguard';
import { Sandbox } from './lab';

describe('lib/net/wireguard in two namespaces', () => {
  let box: Sandbox;
  const ns = { a: '', b: '' };
  const ifname = { a: '', b: '' };
  const underlay = { a: '10.77.0.1', b: '10.77.0.2' };
  const tunnel = { a: '10.98.0.1', b: '10.98.0.2' };
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const port = 51821;
  const peerOf = (side: 'a' | 'b', keepalive: number | null = null): DesiredPeer => ({
    publicKey: keys[side].publicKey,
    endpoint: `${underlay[side]}:${port}`,
    allowedIps: [`${tunnel[side]}/32`],
    persistentKeepalive: keepalive,
  });
  const ping = (from: 'a' | 'b', to: string) => run('ping', ['-c', '2', '-i', '0.2', '-W', '1', to], { netns: ns[from] });

  before(async () => {
    box = new Sandbox();
    for (const side of ['a', 'b'] as const) {
      ns[side] = `${box.prefix}-wg${side}`;
      ifname[side] = `${box.prefix}wg${side}`;
      await box.addNamespace(ns[side]);
    }
    await box.addVeth({ netns: ns.a, ifname: `${box.prefix}v-a`, cidr: `${underlay.a}/30` }, { netns: ns.b, ifname: `${box.prefix}v-b`, cidr: `${underlay.b}/30` });
  });

  after(async () => {
    await box?.teardown();
  });

  test('keys from Node crypto are what wg makes and accepts', async () => {
    const { stdout: viaWg } = await run('wg', ['pubkey'], { input: `${keys.a.privateKey}\n` });
    assert.equal(viaWg.trim(), keys.a.publicKey);
    const { stdout: wgKey } = await run('wg', ['genkey']);
    const { stdout: wgPub } = await run('wg', ['pubkey'], { input: wgKey });
    assert.equal(publicKeyOf(wgKey.trim()), wgPub.trim());
  });

  test('the private key file is written 0600', async () => {
    for (const side of ['a', 'b'] as const) {
      const file = path.join(box.dir, `${side}.key`);
      await writePrivateKeyFile(file, keys[side].privateKey);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.readFileSync(file, 'utf8').trim(), keys[side].privateKey);
    }
  });

  test('bringUp makes the interface, and is idempotent', async (t) => {
    for (const side of ['a', 'b'] as const) {
      box.trackWireGuard(ifname[side], ns[side]);
      const opts = { ifname: ifname[side], netns: ns[side], privateKeyFile: path.join(box.dir, `${side}.key`), listenPort: port, address: `${tunnel[side]}/32` };
      const up = await bringUp(opts);
      assert.equal(up.publicKey, keys[side].publicKey);
      t.diagnostic(`${ifname[side]}: ${up.implementation}`);
      assert.deepEqual(await bringUp(opts), up);
      const { stdout } = await run('wg', ['show', ifname[side], 'listen-port'], { netns: ns[side] });
      assert.equal(stdout.trim(), String(port));
    }
  });

  test('reconcilePeers adds the peers and their routes; a second run changes nothing', async () => {
    const first = await reconcilePeers(ifname.a, [peerOf('b')], { netns: ns.a });
    assert.deepEqual(first.peers.add.map((p) => p.publicKey), [keys.b.publicKey]);
    assert.deepEqual(first.routes.add, [`${tunnel.b}/32`]);
    await reconcilePeers(ifname.b, [peerOf('a')], { netns: ns.b });
    const again = await reconcilePeers(ifname.a, [peerOf('b')], { netns: ns.a });
    assert.deepEqual({ add: again.peers.add, update: again.peers.update, remove: again.peers.remove }, { add: [], update: [], remove: [] });
    assert.deepEqual(again.routes, { add: [], remove: [] });
  });

  test('a ping crosses the tunnel and the handshake is reported', async (t) => {
    const before = Date.now();
    assert.match((await ping('a', tunnel.b)).stdout, / 0% packet loss/);
    const [peer] = await peerStatus(ifname.a, { netns: ns.a });
    assert.equal(peer?.publicKey, keys.b.publicKey);
    assert.equal(peer?.endpoint, `${underlay.b}:${port}`);
    assert.ok(peer!.latestHandshakeAtMs !== null, 'a handshake happened');
    // wg reports whole seconds.
    assert.ok(peer!.latestHandshakeAtMs >= Math.floor(before / 1000) * 1000, 'the handshake is from this test');
    assert.ok(peer!.rxBytes > 0 && peer!.txBytes > 0);
    t.diagnostic(`handshake age ${Date.now() - peer!.latestHandshakeAtMs} ms, rx ${peer!.rxBytes} B, tx ${peer!.txBytes} B`);
  });

  test('a changed keepalive is an update, applied', async () => {
    const r = await reconcilePeers(ifname.a, [peerOf('b', 7)], { netns: ns.a });
    assert.deepEqual(r.peers.update.map((u) => u.changed), [['persistentKeepalive']]);
    const { stdout } = await run('wg', ['show', ifname.a, 'persistent-keepalive'], { netns: ns.a });
    assert.match(stdout, /\t7\n?$/);
  });

  test('removing the peer breaks the tunnel; adding it back mends it', async () => {
    const r = await reconcilePeers(ifname.a, [], { netns: ns.a });
    assert.deepEqual(r.peers.remove, [keys.b.publicKey]);
    assert.deepEqual(r.routes.remove, [`${tunnel.b}/32`]);
    assert.deepEqual(await peerStatus(ifname.a, { netns: ns.a }), []);
    await assert.rejects(ping('a', tunnel.b));
    // Even with the route back by hand, no peer means no way through.
    await run('ip', ['route', 'add', `${tunnel.b}/32`, 'dev', ifname.a], { netns: ns.a });
    await assert.rejects(ping('a', tunnel.b));
    const back = await reconcilePeers(ifname.a, [peerOf('b')], { netns: ns.a });
    assert.equal(back.peers.add.length, 1);
    assert.match((await ping('a', tunnel.b)).stdout, / 0% packet loss/);
  });

  test('bringDown removes the interface and its wireguard-go, and is idempotent', async () => {
    for (const side of ['a', 'b'] as const) {
      await bringDown(ifname[side], { netns: ns[side] });
      await bringDown(ifname[side], { netns: ns[side] });
      await assert.rejects(run('ip', ['link', 'show', 'dev', ifname[side]], { netns: ns[side] }));
      assert.deepEqual(wireguardGoPids(ifname[side]), []);
      assert.equal(fs.existsSync(`/var/run/wireguard/${ifname[side]}.sock`), false);
    }
  });
});
