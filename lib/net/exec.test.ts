import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CommandError, inNetns, run } from './exec';

test('runs a command; stdin is given or closed', async () => {
  assert.equal((await run('cat', [], { input: 'hello' })).stdout, 'hello');
  // cat with nothing on stdin ends at once instead of waiting.
  assert.equal((await run('cat', [])).stdout, '');
  // A command that exits without reading its stdin is no error.
  for (let i = 0; i < 20; i++) await run('true', [], { input: 'x'.repeat(1 << 16) });
});

test('a failing or hanging command fails with its command line', async () => {
  await assert.rejects(run('sh', ['-c', 'echo oops >&2; exit 3']), (err: unknown) => {
    assert.ok(err instanceof CommandError);
    assert.equal(err.code, 3);
    assert.match(err.message, /sh -c .*: oops/);
    return true;
  });
  await assert.rejects(run('sleep', ['5'], { timeoutMs: 100 }), (err: unknown) => err instanceof CommandError && err.code === 'timeout');
});

test('inNetns wraps in ip netns exec only when a namespace is given', () => {
  assert.deepEqual(inNetns(undefined, 'wg', ['show']), ['wg', ['show']]);
  assert.deepEqual(inNetns('mr1234-fra', 'wg', ['show']), ['ip', ['netns', 'exec', 'mr1234-fra', 'wg', 'show']]);
});
