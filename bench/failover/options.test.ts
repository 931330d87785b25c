// The failover bench's options: defaults, a chosen subset, and bad input
// named in the error.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FAILURES, parseFailoverOptions } from './options';

test('defaults run every failure in order', () => {
  const o = parseFailoverOptions([])!;
  assert.deepEqual(o.only, [...FAILURES]);
  assert.equal(o.intervalMs, 20);
  assert.equal(o.out, 'bench/results');
});

test('--only picks failures; unknown names and bad numbers are refused by name', () => {
  assert.deepEqual(parseFailoverOptions(['--only', 'edge-drain, etcd-restart'])!.only, ['edge-drain', 'etcd-restart']);
  assert.throws(() => parseFailoverOptions(['--only', 'edge-drain,nope']), /--only: nope; choose from region-instances/);
  assert.throws(() => parseFailoverOptions(['--interval-ms', '2']), /--interval-ms: an integer from 5 to 1000/);
  assert.equal(parseFailoverOptions(['--help']), undefined);
});
