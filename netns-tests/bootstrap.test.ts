// (F) `meridian bootstrap` in the lab, and the units it wrote run the way
// systemd would run them (cli/testing/unit-command.ts: ${VAR} from
// meridian.env, %d the credentials directory, node paths under --root).
// The `global` host is a bootstrapped global node: etcd and the global
// controller from their units, with the data key and trust domain bootstrap
// wrote. On the fra host, `--role region`: the tunnel unit makes the WireGuard interface,
// the zone controller from its ExecStart joins the global controller and
// runs the backhaul with the key bootstrap made, the ingress from its
// ExecStart listens. Discovery between them runs mTLS with the proxy token
// bootstrap made on the node (pinning the root its join token names): the
// ingress gets its leaf with the token, then watches with the leaf. Another
// region (iad, run as the lab runs it) and the bootstrapped one handshake, and
// each reaches the other's ingress over the tunnel. BIRD parses the config
// bootstrap seeded, from its unit's line.
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveUnit, unitCommand } from '../cli/testing/unit-command';
import { readProxyToken } from '../lib/auth/proxy-token';
import { CommandError } from '../lib/net/exec';
import { certificateFingerprint } from '../lib/pki';
import { Lab } from './lab';
import { regionResource, serviceResources } from './lab/lab-resources';
import { MeridianStack, PORTS } from './lab/meridian-stack';

const figure = (text: string) => console.log(`# ${text}`);

// The certificates a TLS server at ADDRESS presents, seen from inside a
// namespace (openssl s_client; the handshake may end in an alert when the
// server wants a client certificate, after the server's chain was shown).
async function presentedChain(lab: Lab, node: 'fra', address: string): Promise<X509Certificate[]> {
  let out: string;
  try {
    out = (await lab.exec(node, 'openssl', ['s_client', '-connect', address, '-showcerts'], { input: '', timeoutMs: 10_000 })).stdout;
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    out = err.stdout;
  }
  const pems = out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  assert.ok(pems.length > 0, `no certificate from ${address}: ${out}`);
  return pems.map((pem) => new X509Certificate(pem));
}

const spiffeOf = (cert: X509Certificate) => /URI:(spiffe:\/\/\S+?)(?:,|$)/.exec(cert.subjectAltName ?? '')?.[1];

interface PeerView {
  region: string;
  up: boolean;
  rttMs: number;
  lastHandshakeAtMs: number | string;
}

describe('(F) nodes made by meridian bootstrap', () => {
  let lab: Lab;
  let stack: MeridianStack;

  let globalRoot = '';
  let globalBootstrap = '';

  before(async () => {
    lab = await Lab.create({ wireguard: false, announceAnycast: false });
    stack = new MeridianStack(lab);
    // A one-member global node: --etcd-peers left out, the data key generated.
    globalRoot = stack.dir('global', 'node');
    const adminTokenFile = path.join(stack.dir('global'), 'admin-token');
    fs.writeFileSync(adminTokenFile, `${stack.adminToken}\n`, { mode: 0o600 });
    globalBootstrap = (
      await stack.meridian('global', [
        'bootstrap', '--role', 'global', '--node-name', 'gc-1', '--admin-token-file', adminTokenFile, '--trust-domain', 'lab.meridian.test',
        '--root', globalRoot, '--no-install', '--no-start',
      ])
    ).stdout;
    const etcd = unitCommand(globalRoot, 'meridian-etcd.service');
    stack.etcd = lab.spawn('global', etcd.argv[0]!, etcd.argv.slice(1), { name: 'global-etcd-from-unit' });
    await stack.waitFor('etcd from its unit', async () => (await stack.http('global').json(`http://127.0.0.1:${PORTS.etcdClient}/health`)).health === 'true', 20_000, 100, [stack.etcd]);
    const gc = unitCommand(globalRoot, 'meridian-global-controller.service');
    stack.controller = lab.spawn('global', gc.argv[0]!, gc.argv.slice(1), { name: 'global-controller-from-unit' });
    // Its admin API: HTTPS on every address, plaintext on loopback only.
    await stack.waitFor('the global controller from its unit', async () => (await stack.http('global').json(`${stack.localAdminUrl}/healthz`)).storeWarm === true, 30_000, 100, [stack.controller]);
    await stack.pinRoot();
    await stack.apply([regionResource(lab.addresses, 'fra'), regionResource(lab.addresses, 'iad'), ...serviceResources([])]);
    // iad as the lab runs every region: zone controller with its tunnel, and its ingress.
    const tokenFile = path.join(stack.dir('iad'), 'join-token');
    fs.writeFileSync(tokenFile, `${await stack.token('iad')}\n`, { mode: 0o600 });
    await stack.startZone('iad', stack.zoneArgs('iad', tokenFile));
    await stack.startIngress('iad');
  });

  after(async () => {
    await stack?.stop().catch(() => undefined);
    await lab?.teardown();
  });

  test('a global node from its units: etcd, and the global controller with the mesh CA sealed by the data key bootstrap made', async () => {
    assert.match(globalBootstrap, /^done: \d+ created/m);
    assert.equal(fs.statSync(path.join(globalRoot, 'etc/meridian/data.key')).mode & 0o777, 0o600);
    const gc = unitCommand(globalRoot, 'meridian-global-controller.service');
    assert.ok(gc.argv.includes(`${gc.credentialsDir}/data-key`), 'the data key from the credentials directory');
    const ca = await stack.http('global').json(`${stack.localAdminUrl}/v1/ca`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
    assert.equal(ca.trustDomain, 'lab.meridian.test');
    assert.ok(gc.argv.includes('--https') && gc.argv[gc.argv.indexOf('--http') + 1] === '127.0.0.1:7402', `HTTPS for the network, plaintext on loopback: ${gc.execStart}`);
    // The admin API's certificate, seen from a region: the global controller's identity under the pinned root.
    const adminChain = await presentedChain(lab, 'fra', `${stack.globalAddress}:${PORTS.admin}`);
    assert.equal(spiffeOf(adminChain[0]!), 'spiffe://lab.meridian.test/region/global/global/controller');
    assert.ok(adminChain.some((c) => certificateFingerprint(c.raw) === stack.rootFingerprint), 'the root is sent along, for pinning');
    // Plaintext to it from another host is refused by the CLI before connecting.
    const plaintext = await stack.meridian('fra', ['get', 'regions'], { env: { MERIDIAN_SERVER: `http://${stack.globalAddress}:${PORTS.admin}` } }).then(
      () => assert.fail('plaintext to the global host was not refused'),
      (err: unknown) => (err as Error).message,
    );
    assert.match(plaintext, /refusing plaintext http to http:\/\//);
    assert.ok(Array.isArray(ca.roots) && ca.roots.length === 1, JSON.stringify(ca.roots));
    figure(`(F) global node from its units: etcd and the global controller up, mesh CA of trust domain ${ca.trustDomain}; ExecStart: ${gc.execStart}`);
  });

  test('bootstrap writes a region node; from its units the region joins, brings up its tunnel and handshakes with iad', async () => {
    const fra = lab.addresses.regions.fra;
    const root = stack.dir('fra', 'node');
    const tokenFile = path.join(stack.dir('fra'), 'join-token');
    // Asked for on the fra host, over the HTTPS admin API, pinning the root.
    fs.writeFileSync(tokenFile, `${await stack.token('fra', 'fra')}\n`, { mode: 0o600 });
    const t0 = Date.now();
    const out = await stack.meridian('fra', [
      'bootstrap', '--role', 'region', '--region', 'fra', '--global', stack.federation, '--join-token-file', tokenFile,
      '--root', root, '--no-install', '--no-start', '--node-name', 'fra-1', '--public-address', fra.underlay,
      // The lab's interface name: unique on the host (wireguard-go's sockets are shared), swept by teardown.
      '--tunnel-address', fra.tunnel, '--tunnel-interface', fra.wgIfname,
    ]);
    const bootstrapMs = Date.now() - t0;
    assert.match(out.stdout, /^done: \d+ created/m);
    assert.equal(fs.statSync(path.join(root, 'etc/meridian/join-token')).mode & 0o777, 0o600);
    // The tunnel key is made sealed with the node's state key: never in the clear on disk.
    assert.equal(fs.statSync(path.join(root, 'var/lib/meridian/zone/wireguard/private.key.sealed')).mode & 0o777, 0o600);
    assert.equal(fs.existsSync(path.join(root, 'var/lib/meridian/zone/wireguard/private.key')), false, 'no clear WireGuard key');
    const publicKey = /^wireguard public key: (\S+)$/m.exec(out.stdout)?.[1];
    assert.ok(publicKey, out.stdout);

    // BIRD from its unit's line, with -p: parse the seeded config and exit.
    const bird = unitCommand(root, 'meridian-bird.service');
    await lab.exec('fra', bird.argv[0]!, [...bird.argv.slice(1), '-p']);

    // The tunnel unit, every line in systemd's order; a `-` line may fail
    // (no wireguard module to load; no `meridian` user to hand the socket to).
    const wg = resolveUnit(root, 'meridian-wireguard.service');
    for (const cmd of wg.commands) {
      try {
        await lab.exec('fra', cmd.argv[0]!, cmd.argv.slice(1), { env: wg.env, timeoutMs: 20_000 });
      } catch (err) {
        if (!cmd.ignoreFailure || !(err instanceof CommandError)) throw err;
      }
    }
    const link = await lab.exec('fra', 'ip', ['-d', 'link', 'show', 'dev', fra.wgIfname]);
    assert.match(link.stdout, new RegExp(fra.wgIfname), 'the interface exists');

    const zoneCmd = unitCommand(root, 'meridian-zone-controller.service');
    assert.equal(zoneCmd.argv[2], 'zone-controller');
    assert.ok(zoneCmd.argv.includes(`${zoneCmd.credentialsDir}/join-token`), 'the token from the credentials directory');
    const t1 = Date.now();
    const zone = lab.spawn('fra', zoneCmd.argv[0]!, zoneCmd.argv.slice(1), { name: 'fra-zone-from-unit' });
    const online = await stack.waitFor('fra online in the global view', async () => (await stack.regionsView()).find((z) => z.region === 'fra' && z.online && z.ingressAddress !== ''), 30_000, 200, [zone]);
    const joinedMs = Date.now() - t1;
    assert.equal(online.ingressAddress, `${fra.tunnel}:${PORTS.ingress}`, 'the ingress, advertised at the tunnel address');
    await stack.waitFor('fra zone controller federated', async () => (await stack.http('fra').json(`http://127.0.0.1:${PORTS.zoneHttp}/healthz`)).federated === true, 15_000, 100, [zone]);
    // Written off the hot path, so a moment after the first snapshot.
    await stack.waitFor("the zone's state in the unit's StateDirectory", async () => fs.existsSync(path.join(root, 'var/lib/meridian/zone/global-state.json')), 10_000, 100, [zone]);
    // The key bootstrap made is the one the tunnel runs with.
    const shown = await lab.exec('fra', 'wg', ['show', fra.wgIfname, 'public-key']);
    assert.equal(shown.stdout.trim(), publicKey);

    // The proxy token bootstrap made: 0600, pinning the mesh's real root (the
    // one the join token named), and what the zone controller's and the
    // ingress's command lines name (each its own credentials copy).
    const proxyTokenPath = path.join(root, 'etc/meridian/proxy-token');
    assert.equal(fs.statSync(proxyTokenPath).mode & 0o777, 0o600);
    const proxyToken = readProxyToken(proxyTokenPath, 'proxy token');
    const ca = await stack.http('global').json(`${stack.localAdminUrl}/v1/ca`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
    assert.equal(proxyToken.rootFingerprint, certificateFingerprint(ca.trustBundle[0]), 'the proxy token pins the active root');
    assert.ok(!out.stdout.includes(proxyToken.secret), 'bootstrap never prints the secret');
    assert.equal(zoneCmd.argv[zoneCmd.argv.indexOf('--proxy-token-file') + 1], `${zoneCmd.credentialsDir}/proxy-token`);
    const ingressCmd = unitCommand(root, 'meridian-ingress.service');
    assert.equal(ingressCmd.argv[ingressCmd.argv.indexOf('--zone-token-file') + 1], `${ingressCmd.credentialsDir}/proxy-token`);

    // Discovery: TLS only, with the zone's leaf (the root sent along for pinning).
    const zoneState = await stack.http('fra').json(`http://127.0.0.1:${PORTS.zoneHttp}/v1/state`);
    assert.deepEqual(zoneState.discoveryTls, { mutual: true, serving: true });
    const discoveryChain = await presentedChain(lab, 'fra', `127.0.0.1:${PORTS.zoneGrpc}`);
    assert.match(spiffeOf(discoveryChain[0]!) ?? '', /^spiffe:\/\/lab\.meridian\.test\/region\/fra\/zone\//, discoveryChain[0]!.subjectAltName);
    assert.ok(discoveryChain.some((c) => certificateFingerprint(c.raw) === proxyToken.rootFingerprint), 'the pinned root is in the chain the discovery port sends');

    const t3 = Date.now();
    const ingress = lab.spawn('fra', ingressCmd.argv[0]!, ingressCmd.argv.slice(1), { name: 'fra-ingress-from-unit' });
    await stack.waitFor('the ingress from its unit', async () => (await stack.http('fra').request(`http://127.0.0.1:${PORTS.ingressAdmin}/healthz`)).status === 200, 20_000, 100, [ingress]);
    // Its Watch stream is open: the zone takes Watch only from a verified leaf
    // of an edge or ingress of fra, which the ingress got over TLS with the token.
    const watching = await stack.waitFor('the ingress watching discovery with its leaf', async () => {
      const st = await stack.http('fra').json(`http://127.0.0.1:${PORTS.zoneHttp}/v1/state`);
      return (st.proxies as Array<{ proxy: string }>).some((p) => p.proxy === 'fra-1-ingress') ? st : undefined;
    }, 15_000, 100, [ingress, zone]);
    const watchMs = Date.now() - t3;
    // The leaf the ingress serves on the tunnel address is that leaf: its
    // identity, signed by fra's zone CA, which the mesh root signed.
    const ingressChain = await presentedChain(lab, 'fra', `${fra.tunnel}:${PORTS.ingress}`);
    const [leaf, zoneCa] = ingressChain;
    assert.equal(spiffeOf(leaf!), 'spiffe://lab.meridian.test/region/fra/ingress/fra-1-ingress');
    assert.ok(zoneCa && leaf!.verify(zoneCa.publicKey), 'the leaf is signed by the zone CA it sends');
    assert.match(spiffeOf(zoneCa) ?? '', /\/region\/fra\/zone\//);
    assert.ok(zoneCa.verify(new X509Certificate(ca.trustBundle[0]).publicKey), 'the zone CA is signed by the mesh root');

    // An attacker on another node of the network (the global host here):
    // the registry takes no write and gives no read without an instance
    // token, the zone's state and the ingress's view answer only callers on
    // fra's own host; health and metrics stay open.
    const attacker = stack.http('global');
    const zoneUrl = `http://${fra.underlay}:${PORTS.zoneHttp}`;
    const hijack = await attacker.request(`${zoneUrl}/v1/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'echo', address: fra.underlay, port: 12999, weight: 100 }),
    });
    assert.equal(hijack.status, 401, `registration without a token: ${hijack.body}`);
    assert.equal((await attacker.request(`${zoneUrl}/v1/instances`)).status, 401, 'registry reads from another host need a token');
    const state = await attacker.request(`${zoneUrl}/v1/state`);
    assert.equal(state.status, 403, `zone state from another host: ${state.body}`);
    assert.equal((await attacker.request(`${zoneUrl}/healthz`)).status, 200);
    const view = await attacker.request(`http://${fra.underlay}:${PORTS.ingressAdmin}/v1/view`);
    assert.equal(view.status, 403, `ingress view from another host: ${view.body}`);
    assert.equal((await attacker.request(`http://${fra.underlay}:${PORTS.ingressAdmin}/metrics`)).status, 200);

    // Both ends: a WireGuard handshake, and the other region's ingress reached through the tunnel.
    const peerOf = (view: Awaited<ReturnType<MeridianStack['regionsView']>>, from: string, to: string) =>
      (view.find((z) => z.region === from)?.peers as PeerView[] | undefined)?.find((p) => p.region === to);
    const handshook = (p: PeerView | undefined) => p !== undefined && Number(typeof p.lastHandshakeAtMs === 'string' ? Date.parse(p.lastHandshakeAtMs) : p.lastHandshakeAtMs) > 0;
    const t2 = Date.now();
    const [fraToIad, iadToFra] = await stack.waitFor('fra and iad: handshake, and each ingress reachable over the tunnel', async () => {
      const view = await stack.regionsView();
      const a = peerOf(view, 'fra', 'iad');
      const b = peerOf(view, 'iad', 'fra');
      return handshook(a) && handshook(b) && a!.up && b!.up ? [a!, b!] : undefined;
    }, 45_000, 250, [zone, ingress]);
    const tunnelMs = Date.now() - t2;
    const handshakes = await lab.exec('fra', 'wg', ['show', fra.wgIfname, 'latest-handshakes']);
    const [peerKey, stamp] = handshakes.stdout.trim().split(/\s+/);
    assert.ok(Number(stamp) > 0, `a handshake on ${fra.wgIfname}: ${handshakes.stdout}`);
    assert.ok(peerKey, 'iad is a peer');

    figure(`(F) bootstrap wrote the region node in ${bootstrapMs} ms; ExecStart of meridian-zone-controller.service: ${zoneCmd.execStart}`);
    figure(`(F) zone controller started from that line: fra online in the global view ${joinedMs} ms after start`);
    figure(`(F) discovery over mTLS with the proxy token bootstrap made (pins ${proxyToken.rootFingerprint.slice(0, 19)}...): the ingress from its unit held its leaf ${spiffeOf(leaf!)} (valid to ${leaf!.validTo}) and watched ${watchMs} ms after start; proxies of fra: ${(watching.proxies as Array<{ proxy: string }>).map((p) => p.proxy).join(', ')}`);
    figure(`(F) tunnel ${fra.wgIfname} (key made by bootstrap) handshook with iad and both ingresses answered over it ${tunnelMs} ms after the ingress was up; rtt fra->iad ${fraToIad.rttMs} ms, iad->fra ${iadToFra.rttMs} ms`);
  });
});
