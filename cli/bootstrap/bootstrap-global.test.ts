import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { runCli } from '../testing/run-cli';

const ADMIN_TOKEN = 'adm_7f3c9e2b5a1d4f6e8c0b2a4d6f8e0c1a';
const DATA_KEY = '5f1e0c9a8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f';
const PEERS = 'gc-1=http://10.0.1.10:2380,gc-2=http://10.0.2.10:2380,gc-3=http://10.0.3.10:2380';

describe('meridian bootstrap --role global --root', () => {
  let dir = '';
  let root = '';
  let tokenFile = '';
  let dataKeyFile = '';
  const file = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
  const mode = (p: string) => fs.statSync(path.join(root, p)).mode & 0o7777;
  const args = () => [
    'bootstrap', '--role', 'global', '--node-name', 'gc-2', '--etcd-peers', PEERS, '--admin-token-file', tokenFile,
    '--data-key-file', dataKeyFile, '--trust-domain', 'mesh.example.com', '--root', root,
  ];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bootstrap-global-'));
    root = path.join(dir, 'root');
    fs.mkdirSync(root);
    tokenFile = path.join(dir, 'admin-token');
    fs.writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    dataKeyFile = path.join(dir, 'data.key');
    fs.writeFileSync(dataKeyFile, `${DATA_KEY}\n`, { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes etcd and the global controller, the tokens and data key files 0600, and never prints them', async () => {
    const run = await runCli(args());
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^done: 7 created, 3 skipped$/m);
    assert.ok(!run.stdout.includes(ADMIN_TOKEN));
    assert.ok(!run.stdout.includes(DATA_KEY));
    assert.match(run.stdout, /^admin token: in \/etc\/meridian\/tokens \(mode 0600, root only; not shown\)$/m);
    assert.match(run.stdout, /^data key: in \/etc\/meridian\/data\.key \(mode 0600, root only; not shown\), from --data-key-file$/m);

    assert.equal(mode('etc/meridian/tokens'), 0o600);
    assert.match(file('etc/meridian/tokens'), new RegExp(`^admin ${ADMIN_TOKEN}$`, 'm'));
    assert.equal(mode('etc/meridian/data.key'), 0o600);
    assert.equal(file('etc/meridian/data.key'), `${DATA_KEY}\n`);

    const env = file('etc/meridian/meridian.env');
    assert.match(env, /^MERIDIAN_ETCD_NAME=gc-2$/m);
    assert.match(env, /^MERIDIAN_ETCD_PEER_URL=http:\/\/10\.0\.2\.10:2380$/m);
    assert.match(env, new RegExp(`^MERIDIAN_ETCD_INITIAL_CLUSTER=${PEERS.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(env, /^MERIDIAN_ETCD_ENDPOINTS=http:\/\/10\.0\.1\.10:2379,http:\/\/10\.0\.2\.10:2379,http:\/\/10\.0\.3\.10:2379$/m);

    const etcd = file('etc/systemd/system/meridian-etcd.service');
    assert.match(etcd, /^Type=notify$/m);
    // Neither etcd nor the controller needs the instance metadata service.
    assert.match(etcd, /^IPAddressDeny=169\.254\.169\.254 fd00:ec2::254$/m);
    assert.match(file('etc/systemd/system/meridian-global-controller.service'), /^IPAddressDeny=169\.254\.169\.254 fd00:ec2::254$/m);
    assert.match(etcd, /^ExecStart=\/usr\/bin\/etcd --name \$\{MERIDIAN_ETCD_NAME\} --data-dir \/var\/lib\/meridian\/etcd .*--initial-cluster \$\{MERIDIAN_ETCD_INITIAL_CLUSTER\}/m);
    assert.match(etcd, /^User=meridian$/m);
    assert.match(etcd, /^Restart=always$/m);
    const gc = file('etc/systemd/system/meridian-global-controller.service');
    assert.match(
      gc,
      /global-controller --etcd \$\{MERIDIAN_ETCD_ENDPOINTS\} --grpc \$\{MERIDIAN_FEDERATION\} --https \$\{MERIDIAN_ADMIN_HTTPS\} --http \$\{MERIDIAN_ADMIN_HTTP\} --tokens-file %d\/tokens --replica \$\{MERIDIAN_NODE\} --data-key-file %d\/data-key --trust-domain \$\{MERIDIAN_TRUST_DOMAIN\} --tls-san \$\{MERIDIAN_TLS_SAN\}$/m,
    );
    // The admin API: HTTPS for the network, plaintext on loopback only; the
    // certificate names the node's peer address.
    assert.match(env, /^MERIDIAN_ADMIN_HTTPS=0\.0\.0\.0:7401$/m);
    assert.match(env, /^MERIDIAN_ADMIN_HTTP=127\.0\.0\.1:7402$/m);
    assert.match(env, /^MERIDIAN_TLS_SAN=10\.0\.2\.10$/m);
    assert.match(run.stdout, /^admin API: https:\/\/<this node>:7401 .*plaintext http:\/\/127\.0\.0\.1:7402 on this node only$/m);
    assert.match(gc, /^LoadCredential=tokens:\/etc\/meridian\/tokens$/m);
    assert.match(gc, /^LoadCredential=data-key:\/etc\/meridian\/data\.key$/m);
    assert.match(env, /^MERIDIAN_TRUST_DOMAIN=mesh\.example\.com$/m);
    assert.match(gc, /^After=network-online\.target meridian-etcd\.service$/m);
    assert.match(gc, /^ProtectSystem=strict$/m);
    assert.ok(!gc.includes(ADMIN_TOKEN));
    assert.equal(fs.readlinkSync(path.join(root, 'etc/systemd/system/etcd.service')), '/dev/null');
  });

  it('changes nothing on a second run', async () => {
    const stamp = fs.statSync(path.join(root, 'etc/meridian/tokens')).mtimeMs;
    const run = await runCli(args());
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^done: 7 unchanged, 3 skipped$/m);
    assert.equal(fs.statSync(path.join(root, 'etc/meridian/tokens')).mtimeMs, stamp);
  });

  it('follows a new admin token, and generates a token and a data key that stay when none is given', async () => {
    fs.writeFileSync(tokenFile, 'adm_rotated_0123456789abcdef\n');
    const rotated = await runCli(args());
    assert.match(rotated.stdout, /tokens \(mode 0600, contents not shown\): changed$/m);
    assert.match(file('etc/meridian/tokens'), /^admin adm_rotated_0123456789abcdef$/m);

    const fresh = path.join(dir, 'fresh');
    fs.mkdirSync(fresh);
    const once = await runCli(['bootstrap', '--role', 'global', '--node-name', 'gc-1', '--root', fresh]);
    assert.equal(once.code, 0, once.stderr);
    const tokens = fs.readFileSync(path.join(fresh, 'etc/meridian/tokens'), 'utf8');
    const generated = /^admin ([0-9a-f]{64})$/m.exec(tokens)?.[1];
    assert.ok(generated, tokens);
    assert.ok(!once.stdout.includes(generated));
    const dataKey = fs.readFileSync(path.join(fresh, 'etc/meridian/data.key'), 'utf8');
    assert.match(dataKey, /^[0-9a-f]{64}\n$/);
    assert.equal(fs.statSync(path.join(fresh, 'etc/meridian/data.key')).mode & 0o777, 0o600);
    assert.ok(!once.stdout.includes(dataKey.trim()));
    // The operator learns that the other global nodes need this same key.
    assert.match(once.stdout, /^data key: in \/etc\/meridian\/data\.key .*copy it to the others and give it to their bootstrap with --data-key-file$/m);
    assert.match(fs.readFileSync(path.join(fresh, 'etc/meridian/meridian.env'), 'utf8'), /^MERIDIAN_TRUST_DOMAIN=meridian\.local$/m);
    // Without --etcd-peers the node runs a one-member etcd on loopback.
    assert.match(fs.readFileSync(path.join(fresh, 'etc/meridian/meridian.env'), 'utf8'), /^MERIDIAN_ETCD_ENDPOINTS=http:\/\/127\.0\.0\.1:2379$/m);
    const again = await runCli(['bootstrap', '--role', 'global', '--node-name', 'gc-1', '--root', fresh]);
    assert.match(again.stdout, /^done: 7 unchanged, 3 skipped$/m);
    assert.equal(fs.readFileSync(path.join(fresh, 'etc/meridian/tokens'), 'utf8'), tokens);
    assert.equal(fs.readFileSync(path.join(fresh, 'etc/meridian/data.key'), 'utf8'), dataKey);
  });
});
