import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, resource } from '../validation-assertions';

const instance = (spec: unknown) => resource('Instance', spec, 'echo-fra-1');

describe('Instance', () => {
  it('accepts the example and fills the weight', () => {
    const spec = accept(instance({ service: 'echo', region: 'fra', address: '127.0.0.1', port: 9001, labels: { version: 'v1' } })).spec;
    assert.deepEqual(spec, { service: 'echo', region: 'fra', address: '127.0.0.1', port: 9001, weight: 1, labels: { version: 'v1' } });
  });

  it('takes IPv6 addresses and no region (static mode)', () => {
    assert.deepEqual(accept(instance({ service: 'echo', address: '::1', port: 9001, weight: 100 })).spec, { service: 'echo', address: '::1', port: 9001, weight: 100 });
  });

  it('checks each field', () => {
    assertRefused(instance({ service: 'echo', address: 'localhost', port: 9001 }), 'spec.address', 'must be an IPv4 or IPv6 address, got "localhost"');
    assertRefused(instance({ service: 'echo', address: '10.0.0.256', port: 9001 }), 'spec.address', 'must be an IPv4 or IPv6 address, got "10.0.0.256"');
    assertRefused(instance({ service: 'echo', address: '127.0.0.1', port: 0 }), 'spec.port', 'must be an integer from 1 to 65535');
    assertRefused(instance({ service: 'echo', address: '127.0.0.1', port: 9001, weight: 0 }), 'spec.weight', 'must be an integer from 1 to 100');
    assertRefused(instance({ service: 'echo', address: '127.0.0.1', port: 9001, weight: 101 }), 'spec.weight', 'must be an integer from 1 to 100');
    assertRefused(instance({ address: '127.0.0.1', port: 9001 }), 'spec.service', 'required');
    assertRefused(instance({ service: 'echo', address: '127.0.0.1' }), 'spec.port', 'required');
  });

  it('bounds its labels like metadata labels', () => {
    const base = { service: 'echo', address: '127.0.0.1', port: 9001 };
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    accept(instance({ ...base, labels: many(64) }));
    assertRefused(instance({ ...base, labels: many(65) }), 'spec.labels', 'must have at most 64 labels, got 65');
    assertRefused(instance({ ...base, labels: { version: 'v'.repeat(257) } }), 'spec.labels.version', 'must be at most 256 characters, got 257');
  });
});
