// Every ExecStart that bootstrap writes, resolved as systemd would (values
// from meridian.env, %d the credentials directory), is fed to the real
// program's option parser: `meridian <part> ARGS --help` (each part parses
// its whole command line before it looks at --help, so an unknown flag fails),
// and `etcd ARGS --help`. A flag misspelt in units.ts, or one a part no
// longer has, fails here. (BIRD's line is parsed by BIRD itself in the
// network lab, netns-tests/bootstrap.test.ts, where BIRD is installed.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { meridianBin } from '../../lib/process/meridian-bin';
import { testJoinToken } from '../testing/join-token';
import { runCli } from '../testing/run-cli';
import { resolveUnit, type UnitCommand } from '../testing/unit-command';

const PEERS = 'gc-1=http://10.0.1.10:2380,gc-2=http://10.0.2.10:2380,gc-3=http://10.0.3.10:2380';

function execStart(root: string, unit: string): UnitCommand {
  const starts = resolveUnit(root, unit).commands.filter((c) => c.key === 'ExecStart');
  assert.equal(starts.length, 1, `${unit}: one ExecStart`);
  return starts[0]!;
}

// `meridian <part> ...` as the unit runs it: node, then this package's bin.
function meridianArgs(cmd: UnitCommand): string[] {
  assert.equal(cmd.argv[0], process.execPath, cmd.line);
  assert.equal(cmd.argv[1], fs.realpathSync(meridianBin()), cmd.line);
  return cmd.argv.slice(2);
}

function flagsOf(args: string[]): string[] {
  return args.filter((a) => a.startsWith('--'));
}

describe('the units bootstrap writes parse with each program\'s own option parser', () => {
  let dir = '';
  let region = '';
  let global = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-unit-argv-'));
    region = path.join(dir, 'region');
    global = path.join(dir, 'global');
    fs.mkdirSync(region);
    fs.mkdirSync(global);
    const r = await runCli([
      'bootstrap', '--role', 'region', '--region', 'fra', '--global', 'gc.example.com:7400', '--join-token', testJoinToken('fra').token,
      '--node-name', 'fra-0', '--public-address', '203.0.113.10', '--tunnel-address', '10.99.1.1', '--root', region,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const g = await runCli(['bootstrap', '--role', 'global', '--node-name', 'gc-2', '--etcd-peers', PEERS, '--root', global]);
    assert.equal(g.code, 0, g.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const parts: Array<[string, () => string, string, string[]]> = [
    ['meridian-zone-controller.service', () => region, 'zone-controller', ['--tunnel-interface', '--tunnel-address', '--tunnel-endpoint', '--tunnel-listen-port', '--join-token-file', '--proxy-token-file']],
    ['meridian-edge.service', () => region, 'edge', ['--mode', '--zone', '--zone-token-file', '--https', '--cert', '--bird-socket', '--bird-config', '--bgp-router-id']],
    ['meridian-ingress.service', () => region, 'edge', ['--mode', '--zone', '--zone-token-file', '--https', '--admin']],
    ['meridian-global-controller.service', () => global, 'global-controller', ['--etcd', '--https', '--http', '--tokens-file', '--data-key-file', '--trust-domain', '--tls-san']],
  ];

  for (const [unit, rootOf, part, expected] of parts) {
    it(`${unit}: meridian ${part} accepts every flag, and refuses the same line with one flag misspelt`, async () => {
      const args = meridianArgs(execStart(rootOf(), unit));
      assert.equal(args[0], part);
      for (const flag of expected) assert.ok(args.includes(flag), `${unit} passes ${flag}: ${args.join(' ')}`);
      const ok = await runCli([...args, '--help']);
      assert.equal(ok.code, 0, `${unit}: ${args.join(' ')}\n${ok.stderr}`);
      assert.match(ok.stdout, /^Usage|^usage/);

      // The control: this check can fail. The last flag, misspelt.
      const last = flagsOf(args).pop()!;
      const typo = args.map((a) => (a === last ? `${last}x` : a));
      const bad = await runCli([...typo, '--help']);
      assert.notEqual(bad.code, 0, `${unit}: ${last}x was accepted`);
      assert.match(bad.stderr, new RegExp(`${last}x`));
    });
  }

  it('meridian-etcd.service: etcd accepts every flag (and refuses a misspelt one)', () => {
    const cmd = execStart(global, 'meridian-etcd.service');
    assert.equal(cmd.argv[0], '/usr/bin/etcd');
    for (const flag of ['--initial-cluster', '--initial-advertise-peer-urls', '--listen-peer-urls', '--listen-client-urls', '--advertise-client-urls', '--initial-cluster-state', '--auto-compaction-retention']) {
      assert.ok(cmd.argv.includes(flag), flag);
    }
    assert.equal(cmd.argv[cmd.argv.indexOf('--initial-cluster') + 1], PEERS, 'all three members');
    const ok = spawnSync(cmd.argv[0]!, [...cmd.argv.slice(1), '--help'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const bad = spawnSync(cmd.argv[0]!, [...cmd.argv.slice(1).map((a) => (a === '--initial-cluster' ? '--initial-clustr' : a)), '--help'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /flag provided but not defined: -initial-clustr/);
  });
});
