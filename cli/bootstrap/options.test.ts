import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { UsageError } from '../errors';
import { testJoinToken } from '../testing/join-token';
import { runCli } from '../testing/run-cli';
import { parseBootstrapOptions, type BootstrapOptions } from './options';

const JOIN = testJoinToken('fra');
const REGION = [
  '--role', 'region', '--region', 'fra', '--global', 'gc.example.com:7400', '--join-token', JOIN.token, '--node-name', 'n1',
  '--public-address', '203.0.113.10', '--tunnel-address', '10.99.1.1',
];

function parse(argv: string[]): BootstrapOptions {
  const opts = parseBootstrapOptions(argv, {});
  assert.notEqual(opts, 'help');
  return opts as BootstrapOptions;
}

function refused(argv: string[], message: RegExp): void {
  assert.throws(() => parseBootstrapOptions(argv, {}), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.lines.length, 1);
    assert.match(err.lines[0]!, message);
    return true;
  }, argv.join(' '));
}

describe('meridian bootstrap options', () => {
  it('reads a region node', () => {
    const opts = parse(REGION);
    assert.equal(opts.role, 'region');
    assert.equal(opts.region, 'fra');
    assert.equal(opts.joinToken, JOIN.token);
    // The root the join token pins: the proxy token that bootstrap makes pins it too.
    assert.equal(opts.rootFingerprint, JOIN.rootFingerprint);
    assert.equal(opts.tunnelAddress, '10.99.1.1');
    assert.equal(opts.tunnelInterface, 'mrd-fra');
    assert.equal(parse([...REGION.slice(0, -1), '10.99.1.1/32', '--tunnel-interface', 'mrab12wg-fra']).tunnelInterface, 'mrab12wg-fra');
    assert.equal(parse([...REGION.slice(0, -1), '10.99.1.1/32']).tunnelAddress, '10.99.1.1');
    assert.equal(opts.underRoot, false);
    assert.equal(opts.install, true);
    assert.equal(opts.start, true);
  });

  it('takes the join token from a file or the environment', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-opts-'));
    try {
      const file = path.join(dir, 'token');
      const fromFile = testJoinToken('fra');
      const fromEnvToken = testJoinToken('fra');
      fs.writeFileSync(file, `${fromFile.token}\n`);
      const base = REGION.filter((a, i) => a !== '--join-token' && REGION[i - 1] !== '--join-token');
      assert.equal(parse([...base, '--join-token-file', file]).joinToken, fromFile.token);
      assert.equal(parse([...base, '--join-token-file', file]).rootFingerprint, fromFile.rootFingerprint);
      const fromEnv = parseBootstrapOptions(base, { MERIDIAN_JOIN_TOKEN: fromEnvToken.token }) as BootstrapOptions;
      assert.equal(fromEnv.joinToken, fromEnvToken.token);
      assert.equal(fromEnv.rootFingerprint, fromEnvToken.rootFingerprint);
      refused([...base, '--join-token-file', path.join(dir, 'missing')], /--join-token-file .*missing: ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a global node with its etcd peers, data key and trust domain', () => {
    const opts = parse(['--role', 'global', '--node-name', 'gc-2', '--etcd-peers', 'gc-1=http://10.0.0.1:2380,gc-2=http://10.0.0.2:2380']);
    assert.deepEqual(opts.etcdPeers.map((p) => p.host), ['10.0.0.1', '10.0.0.2']);
    assert.equal(opts.trustDomain, 'meridian.local');
    assert.equal(opts.dataKey, undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-opts-'));
    try {
      const key = path.join(dir, 'data.key');
      fs.writeFileSync(key, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
      const withKey = parse(['--role', 'global', '--data-key-file', key, '--trust-domain', 'mesh.example.com']);
      assert.equal(withKey.dataKey, 'ab'.repeat(32));
      assert.equal(withKey.trustDomain, 'mesh.example.com');
      fs.writeFileSync(key, 'short\n');
      refused(['--role', 'global', '--data-key-file', key], /--data-key-file .* holds 5 bytes; it must hold at least 32/);
      fs.writeFileSync(key, Buffer.from([0, 1, 2, 255]));
      refused(['--role', 'global', '--data-key-file', key], /--data-key-file .*: must be one line of hex or base64/);
      refused(['--role', 'global', '--data-key-file', path.join(dir, 'missing')], /--data-key-file .*missing: ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad command line with one clear line', () => {
    refused([], /^missing --role global\|region/);
    refused(['--role', 'edge'], /^--role must be global or region, got "edge"/);
    refused(['--role', 'region', '--global', 'g:7400', '--join-token', 'mzt1.abc.def'], /^--role region needs --region NAME/);
    refused(['--role', 'region', '--region', 'fra', '--join-token', 'mzt1.abc.def'], /^--role region needs --global HOST:PORT/);
    refused(['--role', 'region', '--region', 'fra', '--global', 'g:7400'], /^--role region needs --join-token TOKEN or --join-token-file FILE/);
    refused([...REGION.slice(0, 3), 'frankfurt-main', ...REGION.slice(4)], /^--region "frankfurt-main" is longer than 11 characters/);
    refused([...REGION.slice(0, 3), 'FRA', ...REGION.slice(4)], /^--region "FRA" is not a region name/);
    refused([...REGION.slice(0, 5), 'no-port', ...REGION.slice(6)], /^--global "no-port" is not HOST:PORT/);
    refused([...REGION, '--etcd-peers', 'a=http://1.2.3.4:2380'], /^--etcd-peers is for --role global/);
    refused([...REGION.slice(0, -1), '10.99.1.1/40'], /^--tunnel-address "10\.99\.1\.1\/40": give the address alone or as \/32/);
    refused([...REGION.slice(0, -1), '10.99.1.1/16'], /^--tunnel-address "10\.99\.1\.1\/16": give the address alone or as \/32/);
    refused([...REGION.slice(0, -1), '10.99.1'], /^--tunnel-address "10\.99\.1" is not an IPv4 address/);
    refused(REGION.slice(0, -2), /^--role region needs --tunnel-address IP/);
    refused([...REGION.slice(0, 10), ...REGION.slice(12)], /^--role region needs --public-address ADDR/);
    refused([...REGION, '--tunnel-interface', 'much-too-long-ifname'], /^--tunnel-interface: interface name "much-too-long-ifname"/);
    refused([...REGION, '--data-key-file', '/x'], /^--data-key-file is for --role global/);
    refused(['--role', 'global', '--tunnel-interface', 'wg0'], /^--tunnel-interface is for --role region/);
    refused(['--role', 'global', '--trust-domain', 'Not_A.Domain'], /^--trust-domain "Not_A\.Domain" is not lower-case DNS labels/);
    refused(['--role', 'global', '--region', 'fra'], /^--region is for --role region/);
    refused(['--role', 'global', '--node-name', 'gc-9', '--etcd-peers', 'gc-1=http://10.0.0.1:2380'], /^--etcd-peers does not list this node \("gc-9"\)/);
    refused(['--role', 'global', '--node-name', 'gc-1', '--etcd-peers', 'gc-1=10.0.0.1:2380'], /^--etcd-peers: "gc-1=10\.0\.0\.1:2380" is not NAME=http:\/\/HOST:PORT/);
    refused([...REGION, '--root', '/nonexistent/meridian-root'], /^--root \/nonexistent\/meridian-root does not exist/);
    refused([...REGION, '--bogus'], /^unknown option '--bogus'/);
    // A join token without the root's fingerprint: no proxy token can pin it (the zone controller would refuse it too).
    const base = REGION.filter((a, i) => a !== '--join-token' && REGION[i - 1] !== '--join-token');
    const noRca = `mzt1.${Buffer.from(JSON.stringify({ r: 'fra', td: 'meridian.local' })).toString('base64url')}.c2lnbmF0dXJl`;
    refused([...base, '--join-token', noRca], /^the join token carries no root CA fingerprint \(rca\).*create a new one/);
    refused([...base, '--join-token', 'mzt1.abcdefgh.ijklmnop'], /^the join token carries no root CA fingerprint \(rca\)/);
  });

  it('holds the join and admin tokens to the one token rule from every source, naming the source', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bootstrap-token-rule-'));
    try {
      const base = REGION.filter((a, i) => a !== '--join-token' && REGION[i - 1] !== '--join-token');
      refused([...base, '--join-token', 'mzt1.abc.def'], /^--join-token: a token has at least 16 characters, this one has 12 \(run/);
      fs.writeFileSync(path.join(dir, 'short'), 'mzt1.abc.def\n');
      refused([...base, '--join-token-file', path.join(dir, 'short')], /^--join-token-file .*short: a token has at least 16 characters/);
      assert.throws(() => parseBootstrapOptions(base, { MERIDIAN_JOIN_TOKEN: 'mzt1.abc.def' }), /MERIDIAN_JOIN_TOKEN: a token has at least 16 characters/);
      const global = ['--role', 'global', '--node-name', 'gc-1'];
      assert.throws(() => parseBootstrapOptions(global, { MERIDIAN_ADMIN_TOKEN: 'hunter2' }), /MERIDIAN_ADMIN_TOKEN: a token has at least 16 characters, this one has 7/);
      fs.writeFileSync(path.join(dir, 'quoted'), '"0123456789abcdef0123"\n');
      refused([...global, '--admin-token-file', path.join(dir, 'quoted')], /^--admin-token-file .*quoted: a token has only the characters .*; character 1 is not one of them \(run/);
      assert.equal(parseBootstrapOptions(global, { MERIDIAN_ADMIN_TOKEN: 'adm_0123456789abcdef' }) !== 'help', true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never repeats a rejected token in its error', () => {
    const secret = 'has space but secret';
    assert.throws(() => parseBootstrapOptions([...REGION.slice(0, 8), '--join-token', secret], {}), (err: Error) => !err.message.includes(secret));
  });

  it('prints one error line and exits 2 from the command', async () => {
    const run = await runCli(['bootstrap', '--role', 'region', '--global', 'g:7400', '--join-token', 'mzt1.abc.def']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, "error: --role region needs --region NAME (run 'meridian bootstrap --help' for usage)\n");
  });
});
