// (e) Teardown leaves nothing: no namespace, no link, no wireguard-go, no
// BIRD with the run's prefix; also when the process running the lab is
// stopped by SIGTERM or SIGINT, or exits without tearing down. A SIGKILLed
// run leaves things behind: netns-tests/cleanup removes them.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Lab, leftovers } from './lab';
import { repoRoot } from '../test-support/repo-root';

// What the system tools show for the prefix, as a person would check.
function visible(prefix: string): string[] {
  const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
  const live = (line: string) => {
    const pid = line.split(' ')[0]!;
    return !/^State:\s+Z/m.test(spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout ?? 'State: Z');
  };
  return [
    ...out('ip', ['netns', 'list']).split('\n').filter((l) => l.includes(prefix)).map((l) => `ip netns: ${l}`),
    ...out('ip', ['link']).split('\n').filter((l) => l.includes(prefix)).map((l) => `ip link: ${l}`),
    ...out('pgrep', ['-a', 'wireguard-go']).split('\n').filter((l) => l.includes(prefix) && live(l)).map((l) => `wireguard-go: ${l}`),
    ...out('pgrep', ['-a', 'bird']).split('\n').filter((l) => l.includes(prefix) && live(l)).map((l) => `bird: ${l}`),
  ];
}

const CHILD = `
const { Lab } = require(process.argv[1]);
setTimeout(() => process.exit(4), 60000);
Lab.create().then((lab) => {
  console.log('ready ' + lab.prefix);
  if (process.argv[2] === 'exit') process.exit(3);
}, (err) => { console.error(err); process.exit(1); });
`;

// Runs a lab in another process, lets `how` end that process, returns the prefix.
async function labInChild(how: 'SIGTERM' | 'SIGINT' | 'SIGKILL' | 'exit'): Promise<{ prefix: string; code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, ['-e', CHILD, path.join(__dirname, 'lab'), how], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const prefix = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      const m = /ready (mr[0-9a-f]{4})/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`lab child exited (${code}) before it was ready: ${stderr}`)));
  });
  assert.ok(visible(prefix).length > 0, 'the child lab is there');
  if (how !== 'exit') child.kill(how);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const end = await exited;
  clearTimeout(timer);
  return { prefix, ...end };
}

describe('(e) teardown leaves nothing', () => {
  test('after lab.teardown()', async (t) => {
    const lab = await Lab.create();
    const { prefix } = lab;
    assert.ok(visible(prefix).length > 0);
    const started = Date.now();
    await lab.teardown();
    t.diagnostic(`teardown of ${prefix} took ${Date.now() - started} ms`);
    assert.deepEqual(visible(prefix), []);
    assert.deepEqual(leftovers(prefix), []);
  });

  for (const how of ['SIGTERM', 'SIGINT', 'exit'] as const) {
    test(`when the lab's process ${how === 'exit' ? 'exits without tearing down' : `gets ${how}`}`, async () => {
      const { prefix, code } = await labInChild(how);
      assert.equal(code, { SIGTERM: 143, SIGINT: 130, exit: 3 }[how]);
      assert.deepEqual(visible(prefix), []);
      assert.deepEqual(leftovers(prefix), []);
    });
  }

  test('after SIGKILL, netns-tests/cleanup removes what is left', async () => {
    const { prefix, signal } = await labInChild('SIGKILL');
    assert.equal(signal, 'SIGKILL');
    assert.ok(leftovers(prefix).length > 0, 'a SIGKILLed run leaves its lab behind');
    const r = spawnSync(path.join(repoRoot(), 'netns-tests', 'cleanup'), [prefix], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(visible(prefix), []);
    assert.deepEqual(leftovers(prefix), []);
  });
});
