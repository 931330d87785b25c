import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isIPv4, parseEndpoint, parseNetwork, parsePrefix } from './ipv4';

test('addresses', () => {
  for (const ok of ['0.0.0.0', '10.0.0.1', '255.255.255.255', '203.0.113.10']) assert.ok(isIPv4(ok), ok);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.4/32']) assert.ok(!isIPv4(bad), bad);
});

test('prefixes and networks', () => {
  assert.deepEqual(parsePrefix('10.1.0.1/24'), { address: '10.1.0.1', length: 24 });
  assert.deepEqual(parsePrefix('10.1.0.1'), { address: '10.1.0.1', length: 32 });
  assert.deepEqual(parseNetwork('0.0.0.0/0'), { address: '0.0.0.0', length: 0 });
  assert.throws(() => parsePrefix('10.1.0.0/33'), /not an IPv4 prefix/);
  assert.throws(() => parsePrefix('10.1.0.0/'), /not an IPv4 prefix/);
  assert.throws(() => parseNetwork('10.1.0.1/24', 'anycast[0]'), /anycast\[0\]: host bits set .*10\.1\.0\.0\/24/);
});

test('endpoints', () => {
  assert.deepEqual(parseEndpoint('10.2.0.1:51820'), { host: '10.2.0.1', port: 51820 });
  assert.throws(() => parseEndpoint('10.2.0.1'), /address:port/);
  assert.throws(() => parseEndpoint('10.2.0.1:0'), /address:port/);
  assert.throws(() => parseEndpoint('host:1'), /address:port/);
});
