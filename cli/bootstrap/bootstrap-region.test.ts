import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { testJoinToken } from '../testing/join-token';
import { runCli } from '../testing/run-cli';
import { unitCommand } from '../testing/unit-command';
import { parseProxyToken, readProxyToken } from '../../lib/auth/proxy-token';
import { publicKeyOf } from '../../lib/net/wireguard-keys';
import { dataKeyFromBytes, openSecret } from '../../lib/pki';

// A join token as `meridian token create --region fra` makes it: it names the
// mesh root's fingerprint (rca), which the proxy token pins.
const JOIN = testJoinToken('fra');
const TOKEN = JOIN.token;
const REGION_ARGS = [
  'bootstrap', '--role', 'region', '--region', 'fra', '--global', 'gc.example.com:7400', '--node-name', 'fra-0',
  '--public-address', '203.0.113.10', '--tunnel-address', '10.99.1.1/32', '--meridian-bin', '/opt/meridian/bin/meridian',
];
const UNITS = ['meridian-zone-controller', 'meridian-edge', 'meridian-ingress', 'meridian-wireguard', 'meridian-bird'];

function snapshot(root: string): Map<string, { content: string; mtimeMs: number; ino: number; mode: number }> {
  const out = new Map<string, { content: string; mtimeMs: number; ino: number; mode: number }>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else {
        const st = fs.lstatSync(p);
        const content = entry.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : fs.readFileSync(p, 'utf8');
        out.set(path.relative(root, p), { content, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode & 0o7777 });
      }
    }
  };
  walk(root);
  return out;
}

describe('meridian bootstrap --role region --root', () => {
  let root = '';
  let first: Awaited<ReturnType<typeof runCli>>;
  const file = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
  const mode = (p: string) => fs.statSync(path.join(root, p)).mode & 0o7777;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bootstrap-region-'));
    first = await runCli([...REGION_ARGS, '--join-token', TOKEN, '--root', root]);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('says what it does at every step, numbered n of m, then a summary', () => {
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    const lines = first.stdout.split('\n');
    assert.match(lines[0]!, /^meridian bootstrap: region node fra-0 of region fra under /);
    // One line per step of the plan, in order, none left out.
    const steps = lines.filter((l) => /^\[\d+\/\d+\] /.test(l));
    assert.equal(steps.length, 22);
    steps.forEach((l, i) => assert.ok(l.startsWith(`[${i + 1}/22] `), l));
    assert.equal(lines[steps.length + 1], 'done: 19 created, 3 skipped');
    assert.match(first.stdout, /^\[17\/22\] writing \/etc\/systemd\/system\/meridian-edge\.service: created$/m);
  });

  it('never runs apt or systemctl under --root, and says what it would run', () => {
    assert.match(first.stdout, /installing packages wireguard-tools bird2 iproute2: skipped \(--root; would run: apt-get update && apt-get install/);
    assert.match(first.stdout, /creating the meridian user: skipped \(--root; would run: systemd-sysusers/);
    assert.match(first.stdout, /skipped \(--root; would run: systemctl daemon-reload && systemctl enable --now meridian-zone-controller\.service/);
  });

  it('denies every unit the instance metadata address: no part needs the instance role or the user data', () => {
    for (const unit of UNITS) {
      assert.match(file(`etc/systemd/system/${unit}.service`), /^IPAddressDeny=169\.254\.169\.254 fd00:ec2::254$/m, unit);
    }
  });

  it('keeps the join token in the zone config, mode 0600, and never prints it', () => {
    assert.equal(file('etc/meridian/join-token'), `${TOKEN}\n`);
    assert.equal(mode('etc/meridian/join-token'), 0o600);
    assert.ok(!first.stdout.includes(TOKEN));
    assert.match(first.stdout, /writing \/etc\/meridian\/join-token \(mode 0600, contents not shown\): created/);
    const zone = file('etc/systemd/system/meridian-zone-controller.service');
    assert.match(zone, /^LoadCredential=join-token:\/etc\/meridian\/join-token$/m);
    assert.match(zone, /--join-token-file %d\/join-token /);
    assert.ok(!zone.includes(TOKEN));
  });

  it('makes the proxy token on the node (0600, pinning the join token\'s root) and hands it to the zone controller, edge and ingress', () => {
    const text = file('etc/meridian/proxy-token');
    assert.equal(mode('etc/meridian/proxy-token'), 0o600);
    assert.match(text, /^mpt1\.[A-Za-z0-9_-]{43}\.[0-9a-f]{64}\n$/);
    const token = parseProxyToken(text, 'proxy-token');
    assert.equal(token.rootFingerprint, JOIN.rootFingerprint);
    assert.ok(!first.stdout.includes(token.secret), 'the secret is never printed');
    assert.match(first.stdout, /generating \/etc\/meridian\/proxy-token \(mode 0600, contents not shown\): created$/m);
    assert.match(first.stdout, new RegExp(`^proxy token: in /etc/meridian/proxy-token \\(mode 0600, root only; not shown\\), pinning the mesh root ${JOIN.rootFingerprint}: discovery .* runs mTLS$`, 'm'));
    // Each unit loads it as a credential and names it with the flag of its part.
    const flags: Array<[string, string]> = [
      ['meridian-zone-controller.service', '--proxy-token-file'],
      ['meridian-edge.service', '--zone-token-file'],
      ['meridian-ingress.service', '--zone-token-file'],
    ];
    for (const [unit, flag] of flags) {
      const text = file(`etc/systemd/system/${unit}`);
      assert.match(text, /^LoadCredential=proxy-token:\/etc\/meridian\/proxy-token$/m, unit);
      assert.match(text, new RegExp(` ${flag} %d/proxy-token `), unit);
      assert.ok(!text.includes(token.secret), unit);
      // Resolved as systemd runs it: the flag names the credential, which holds this token.
      const cmd = unitCommand(root, unit);
      const value = cmd.argv[cmd.argv.indexOf(flag) + 1]!;
      assert.equal(value, path.join(cmd.credentialsDir, 'proxy-token'), unit);
      assert.deepEqual(readProxyToken(value, flag), token, unit);
    }
    // Only the zone controller gets the join token.
    assert.doesNotMatch(file('etc/systemd/system/meridian-edge.service'), /join-token/);
    assert.doesNotMatch(file('etc/systemd/system/meridian-ingress.service'), /join-token/);
  });

  it('writes the node configuration every unit reads', () => {
    const env = file('etc/meridian/meridian.env');
    for (const line of [
      'MERIDIAN_REGION=fra',
      'MERIDIAN_NODE=fra-0',
      'MERIDIAN_GLOBAL=gc.example.com:7400',
      'MERIDIAN_TUNNEL_INTERFACE=mrd-fra',
      'MERIDIAN_TUNNEL_ADDRESS=10.99.1.1',
      'MERIDIAN_TUNNEL_ENDPOINT=203.0.113.10:51820',
      'MERIDIAN_WIREGUARD_PORT=51820',
      'MERIDIAN_INGRESS_ADVERTISE=10.99.1.1:7600',
      'MERIDIAN_EDGE_HTTPS=0.0.0.0:443',
    ]) {
      assert.match(env, new RegExp(`^${line.replace(/[.]/g, '\\.')}$`, 'm'), line);
    }
    // `meridian` on the node pins the admin API by the root the join token names.
    assert.match(env, new RegExp(`^MERIDIAN_CA_FINGERPRINT=${JOIN.rootFingerprint}$`, 'm'));
    assert.equal(mode('etc/meridian/meridian.env'), 0o644);
    assert.ok(!env.includes(TOKEN));
  });

  it('generates the WireGuard key pair sealed with the state key where the zone controller opens it, and prints only the public key', () => {
    // zone-controller/tunnel opens <state dir>/wireguard/private.key.sealed with the state key.
    const stateKey = file('etc/meridian/state.key');
    assert.equal(mode('etc/meridian/state.key'), 0o600);
    const sealed = file('var/lib/meridian/zone/wireguard/private.key.sealed');
    assert.equal(fs.existsSync(path.join(root, 'var/lib/meridian/zone/wireguard/private.key')), false, 'never in the clear');
    const priv = openSecret(sealed, dataKeyFromBytes(stateKey, 'state key'), { purpose: 'wireguard-key', record: 'wireguard/fra' });
    const pub = file('var/lib/meridian/zone/wireguard/public.key').trim();
    assert.equal(mode('var/lib/meridian/zone/wireguard/private.key.sealed'), 0o600);
    assert.equal(mode('var/lib/meridian/zone/wireguard'), 0o700);
    assert.equal(mode('var/lib/meridian/zone'), 0o700);
    assert.ok(!fs.existsSync(path.join(root, 'etc/meridian/wireguard')), 'no second key elsewhere');
    assert.equal(Buffer.from(priv.trim(), 'base64').length, 32);
    assert.equal(publicKeyOf(priv.trim()), pub);
    assert.match(first.stdout, new RegExp(`^wireguard public key: ${pub.replace(/[+/]/g, '\\$&')}$`, 'm'));
    assert.ok(!first.stdout.includes(priv.trim()));
    assert.ok(!first.stdout.includes(stateKey.trim()));
    const zone = file('etc/systemd/system/meridian-zone-controller.service');
    assert.match(zone, /^LoadCredential=meridian-state-key:\/etc\/meridian\/state\.key$/m);
    assert.match(zone, / --state-key-file %d\/meridian-state-key /);
  });

  it('gives the edge a self-signed default certificate until real ones are put next to it', () => {
    const key = file('var/lib/meridian/edge/certs/default.key');
    assert.equal(mode('var/lib/meridian/edge/certs/default.key'), 0o600);
    const cert = new X509Certificate(file('var/lib/meridian/edge/certs/default.crt'));
    assert.ok(cert.checkPrivateKey(createPrivateKey(key)));
    assert.match(cert.subjectAltName ?? '', /DNS:fra-0\.meridian\.invalid, IP Address:203\.0\.113\.10/);
    assert.ok(!first.stdout.includes(key.split('\n')[1]!));
  });

  it('writes the five region units: always restarted, unprivileged where they can be, hardened', () => {
    for (const name of UNITS) {
      const unit = file(`etc/systemd/system/${name}.service`);
      // BIRD reads only its own config; the rest read the node's.
      if (name !== 'meridian-bird') assert.match(unit, /^EnvironmentFile=\/etc\/meridian\/meridian\.env$/m, name);
      assert.match(unit, /^NoNewPrivileges=yes$/m, name);
      assert.match(unit, /^WantedBy=multi-user\.target$/m, name);
      // A oneshot unit cannot be Restart=always; the tunnel restarts on failure.
      assert.match(unit, name === 'meridian-wireguard' ? /^Restart=on-failure$/m : /^Restart=always$/m, name);
      if (name !== 'meridian-wireguard') {
        assert.match(unit, /^User=meridian$/m, name);
        assert.match(unit, /^ProtectSystem=strict$/m, name);
      }
    }
    const zone = file('etc/systemd/system/meridian-zone-controller.service');
    assert.match(zone, /^ExecStart=\S+ \/opt\/meridian\/bin\/meridian zone-controller --region \$\{MERIDIAN_REGION\} --global \$\{MERIDIAN_GLOBAL\} /m);
    // The zone controller runs the backhaul, as in the lab (netns-tests/lab/meridian-stack.ts).
    assert.match(zone, / --state-dir \/var\/lib\/meridian\/zone --tunnel-interface \$\{MERIDIAN_TUNNEL_INTERFACE\} --tunnel-address \$\{MERIDIAN_TUNNEL_ADDRESS\} --tunnel-endpoint \$\{MERIDIAN_TUNNEL_ENDPOINT\} --tunnel-listen-port \$\{MERIDIAN_WIREGUARD_PORT\}$/m);
    assert.match(zone, /^Requires=meridian-wireguard\.service$/m);
    assert.match(zone, /^AmbientCapabilities=CAP_NET_ADMIN$/m);
    assert.match(zone, /^StateDirectoryMode=0700$/m);
    const edge = file('etc/systemd/system/meridian-edge.service');
    assert.match(edge, /edge --mode edge --region \$\{MERIDIAN_REGION\} --zone \$\{MERIDIAN_ZONE_GRPC\} .*--https \$\{MERIDIAN_EDGE_HTTPS\}/);
    assert.match(edge, / --cert \/var\/lib\/meridian\/edge\/certs /);
    assert.match(edge, / --bird-socket \$\{MERIDIAN_BIRD_SOCKET\} --bird-config \$\{MERIDIAN_BIRD_CONFIG\} --bgp-router-id \$\{MERIDIAN_PUBLIC_ADDRESS\}$/m);
    assert.match(edge, /^StateDirectory=meridian\/edge meridian\/bird$/m);
    assert.match(edge, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    assert.match(file('etc/systemd/system/meridian-ingress.service'), /edge --mode ingress .* --https \$\{MERIDIAN_INGRESS_LISTEN\} /);
    // The tunnel unit only makes the interface; no key, address or peers.
    const wg = file('etc/systemd/system/meridian-wireguard.service');
    assert.match(wg, /wireguard-go/);
    assert.doesNotMatch(wg, /private-key|wg set|address replace/);
    assert.match(wg, /^ExecStartPost=-\/bin\/chown meridian \/run\/wireguard\/\$\{MERIDIAN_TUNNEL_INTERFACE\}\.sock$/m);
    const bird = file('etc/systemd/system/meridian-bird.service');
    assert.match(bird, /^ExecStart=\/usr\/sbin\/bird -f -c \/var\/lib\/meridian\/bird\/bird\.conf -s \/run\/meridian-bird\/bird\.ctl$/m);
    assert.match(bird, /^AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW$/m);
    assert.equal(fs.readlinkSync(path.join(root, 'etc/systemd/system/bird.service')), '/dev/null');
    assert.match(file('var/lib/meridian/bird/bird.conf'), /^router id 203\.0\.113\.10;$/m);
    assert.match(file('etc/sysusers.d/meridian.conf'), /^u meridian /m);
  });

  it('changes nothing on a second run: same bytes, same mtimes, all unchanged', async () => {
    const before = snapshot(root);
    const second = await runCli([...REGION_ARGS, '--join-token', TOKEN, '--root', root]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(snapshot(root), before);
    assert.match(second.stdout, /^done: 19 unchanged, 3 skipped$/m);
    // The proxy token is kept, byte for byte (the snapshot above), and says so.
    assert.match(second.stdout, /generating \/etc\/meridian\/proxy-token \(mode 0600, contents not shown\): unchanged \(kept\)$/m);
    // The same public key: the private key was kept.
    assert.equal(/^wireguard public key: (.*)$/m.exec(second.stdout)?.[1], /^wireguard public key: (.*)$/m.exec(first.stdout)?.[1]);
    assert.doesNotMatch(second.stdout, /: (created|changed)\b/);
    assert.ok(!second.stdout.includes(TOKEN));
  });

  it('rewrites only what a changed flag changes, and keeps the key and the mesh BIRD config', async () => {
    const bird = path.join(root, 'var/lib/meridian/bird/bird.conf');
    fs.writeFileSync(bird, '# rendered by the edge\n');
    const key = file('var/lib/meridian/zone/wireguard/private.key.sealed');
    const tokenFile = path.join(root, 'join-token.txt');
    fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const args = REGION_ARGS.map((a) => (a === 'gc.example.com:7400' ? 'gc2.example.com:7400' : a));
    const third = await runCli([...args, '--join-token-file', tokenFile, '--root', root]);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /writing \/etc\/meridian\/meridian\.env: changed$/m);
    assert.match(third.stdout, /^done: 1 changed, 18 unchanged, 3 skipped$/m);
    assert.equal(fs.readFileSync(bird, 'utf8'), '# rendered by the edge\n');
    assert.equal(file('var/lib/meridian/zone/wireguard/private.key.sealed'), key);
    assert.match(file('etc/meridian/meridian.env'), /^MERIDIAN_GLOBAL=gc2\.example\.com:7400$/m);
  });

  it('puts a loosened secret back to 0600', async () => {
    fs.chmodSync(path.join(root, 'etc/meridian/join-token'), 0o644);
    const run = await runCli([...REGION_ARGS, '--join-token', TOKEN, '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /join-token \(mode 0600, contents not shown\): changed \(mode 0644 -> 0600\)$/m);
    assert.equal(mode('etc/meridian/join-token'), 0o600);
  });

  it('keeps the proxy token for a new join token of the same root, and makes a new one for a join token of another root', async () => {
    const kept = file('etc/meridian/proxy-token');
    fs.chmodSync(path.join(root, 'etc/meridian/proxy-token'), 0o640);
    // A new join token (the old one expired), same root: the proxy token stays.
    const renewed = testJoinToken('fra', JOIN.rootFingerprint);
    const again = await runCli([...REGION_ARGS, '--join-token', renewed.token, '--root', root]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /join-token \(mode 0600, contents not shown\): changed$/m);
    assert.match(again.stdout, /proxy-token \(mode 0600, contents not shown\): changed \(mode 0640 -> 0600\)$/m);
    assert.equal(file('etc/meridian/proxy-token'), kept);
    assert.equal(mode('etc/meridian/proxy-token'), 0o600);
    // After a root rotation the join token names the new root: a new proxy token pins it.
    const rotated = testJoinToken('fra');
    const run = await runCli([...REGION_ARGS, '--join-token', rotated.token, '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /generating \/etc\/meridian\/proxy-token \(mode 0600, contents not shown\): changed$/m);
    // meridian.env too: MERIDIAN_CA_FINGERPRINT names the new root.
    assert.match(run.stdout, /writing \/etc\/meridian\/meridian\.env: changed$/m);
    assert.match(run.stdout, /^done: 3 changed, 16 unchanged, 3 skipped$/m);
    const made = parseProxyToken(file('etc/meridian/proxy-token'), 'proxy-token');
    assert.equal(made.rootFingerprint, rotated.rootFingerprint);
    assert.notEqual(made.secret, parseProxyToken(kept, 'proxy-token').secret);
    assert.equal(mode('etc/meridian/proxy-token'), 0o600);
    assert.ok(!run.stdout.includes(made.secret));
  });

  it('prints the plan and writes nothing with --dry-run', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bootstrap-dry-'));
    try {
      const run = await runCli([...REGION_ARGS, '--join-token', TOKEN, '--root', empty, '--dry-run']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /writing \/etc\/systemd\/system\/meridian-edge\.service: would create$/m);
      assert.match(run.stdout, /^dry run, nothing written: 19 would create, 3 skipped$/m);
      assert.match(run.stdout, /generating \/etc\/meridian\/proxy-token \(mode 0600, contents not shown\): would create$/m);
      assert.deepEqual(fs.readdirSync(empty), []);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('meridian bootstrap --role region --root, with a link planted in a state directory', () => {
  let root = '';
  let outside = '';
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bootstrap-link-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bootstrap-outside-'));
  });
  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('refuses the link with its path and leaves the root-only file it points at as it was', async () => {
    assert.equal((await runCli([...REGION_ARGS, '--join-token', TOKEN, '--root', root])).code, 0);
    // The BIRD state directory is the service's; whoever runs as it can plant a
    // link where bootstrap keeps the seeded bird.conf and fixes its mode to 0644.
    const secret = path.join(outside, 'tokens');
    fs.writeFileSync(secret, 'admin 0123456789abcdef0123456789abcdef\n', { mode: 0o600 });
    const bird = path.join(root, 'var/lib/meridian/bird/bird.conf');
    fs.rmSync(bird);
    fs.symlinkSync(secret, bird);
    const run = await runCli([...REGION_ARGS, '--join-token', TOKEN, '--root', root]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`^error: ${bird.replace(/[.]/g, '\\.')} is a symbolic link: bootstrap never writes, reads or changes the mode through a link`, 'm'));
    assert.equal(fs.statSync(secret).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(secret, 'utf8'), 'admin 0123456789abcdef0123456789abcdef\n');
    assert.ok(fs.lstatSync(bird).isSymbolicLink(), 'the link is left for the operator to look at');
  });
});
