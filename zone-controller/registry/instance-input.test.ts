import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateInstanceInput } from './instance-input';

const knownService = (name: string): boolean => name === 'echo' || name === 'api';
const good = { service: 'echo', address: '127.0.0.1', port: 9001 };

function fieldOf(body: unknown): { field: string; message: string } {
  const result = validateInstanceInput(body, knownService);
  assert.equal(result.ok, false, `expected ${JSON.stringify(body)} to be refused`);
  return result.ok ? { field: '', message: '' } : { field: result.field, message: result.message };
}

test('a minimal body is accepted with defaults filled in', () => {
  assert.deepEqual(validateInstanceInput(good, knownService), {
    ok: true,
    value: { service: 'echo', address: '127.0.0.1', port: 9001, weight: 1, labels: {} },
  });
});

test('a full body is accepted, IPv6 in canonical form', () => {
  const result = validateInstanceInput(
    { id: 'echo-a1', service: 'api', address: '0:0:0:0:0:0:0:1', port: 65535, weight: 100, labels: { version: 'v1' } },
    knownService,
  );
  assert.deepEqual(result, {
    ok: true,
    value: { id: 'echo-a1', service: 'api', address: '::1', port: 65535, weight: 100, labels: { version: 'v1' } },
  });
});

test('each bad field is named', () => {
  const cases: [unknown, string, RegExp][] = [
    [null, 'body', /JSON object/],
    [[good], 'body', /JSON object/],
    [{ address: '127.0.0.1', port: 1 }, 'service', /required/],
    [{ ...good, service: 7 }, 'service', /string/],
    [{ ...good, service: 'foo' }, 'service', /^unknown service 'foo'$/],
    [{ service: 'echo', port: 1 }, 'address', /required/],
    [{ ...good, address: 'localhost' }, 'address', /IPv4 or IPv6/],
    [{ ...good, address: '300.1.1.1' }, 'address', /IPv4 or IPv6/],
    [{ ...good, address: 17 }, 'address', /IPv4 or IPv6/],
    [{ service: 'echo', address: '::1' }, 'port', /required/],
    [{ ...good, port: 0 }, 'port', /1 to 65535/],
    [{ ...good, port: 65536 }, 'port', /1 to 65535/],
    [{ ...good, port: 80.5 }, 'port', /1 to 65535/],
    [{ ...good, port: '80' }, 'port', /1 to 65535/],
    [{ ...good, weight: 0 }, 'weight', /1 to 100\b/],
    [{ ...good, weight: 101 }, 'weight', /1 to 100\b/],
    [{ ...good, weight: 1.5 }, 'weight', /1 to 100\b/],
    [{ ...good, labels: ['a'] }, 'labels', /map of strings/],
    [{ ...good, labels: 'a=b' }, 'labels', /map of strings/],
    [{ ...good, labels: { version: 2 } }, 'labels.version', /must be a string/],
    [{ ...good, id: 'has space' }, 'id', /letters, digits/],
    [{ ...good, id: '' }, 'id', /letters, digits/],
    [{ ...good, region: 'fra' }, 'region', /unknown field/],
    [{ ...good, prot: 1 }, 'prot', /unknown field/],
    [{ ...good, ports: [9101] }, 'ports', /map of port names to ports/],
    [{ ...good, ports: 'admin=9101' }, 'ports', /map of port names to ports/],
    [{ ...good, ports: null }, 'ports', /map of port names to ports/],
    [{ ...good, ports: { admin: 0 } }, 'ports.admin', /^must be an integer from 1 to 65535$/],
    [{ ...good, ports: { admin: 65536 } }, 'ports.admin', /^must be an integer from 1 to 65535$/],
    [{ ...good, ports: { admin: 91.5 } }, 'ports.admin', /^must be an integer from 1 to 65535$/],
    [{ ...good, ports: { admin: '9101' } }, 'ports.admin', /^must be an integer from 1 to 65535$/],
    [{ ...good, ports: { Admin: 9101 } }, 'ports.Admin', /port name must be a DNS label/],
    [{ ...good, ports: { ['a'.repeat(64)]: 9101 } }, `ports.${'a'.repeat(64)}`, /at most 63 characters/],
    [{ ...good, ports: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, 9000 + i])) }, 'ports', /at most 32 ports, got 33/],
  ];
  for (const [body, field, message] of cases) {
    const problem = fieldOf(body);
    assert.equal(problem.field, field, `field for ${JSON.stringify(body)}`);
    assert.match(problem.message, message, `message for ${JSON.stringify(body)}`);
  }
});

test('ports: up to 32 named ports are kept; an empty map is the same as none', () => {
  const ports = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`p${i}`, 9000 + i]));
  const result = validateInstanceInput({ ...good, ports }, knownService);
  assert.ok(result.ok);
  assert.deepEqual(result.value.ports, ports);
  assert.deepEqual(validateInstanceInput({ ...good, ports: { admin: 9101, grpc: 1 } }, knownService), {
    ok: true,
    value: { ...good, weight: 1, labels: {}, ports: { admin: 9101, grpc: 1 } },
  });
  const empty = validateInstanceInput({ ...good, ports: {} }, knownService);
  assert.ok(empty.ok);
  assert.equal('ports' in empty.value, false);
});
