import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InstanceIdConflictError, InstanceRegistry, type InstanceChange } from './instance-registry';

const dir = mkdtempSync(join(tmpdir(), 'meridian-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a new instance gets a generated id and starts unhealthy', () => {
  const registry = new InstanceRegistry();
  const before = Date.now();
  const instance = registry.register({ service: 'echo', address: '127.0.0.1', port: 9001 });
  assert.match(instance.id, /^echo-[0-9a-f]{8}$/);
  assert.deepEqual({ ...instance, id: undefined, healthChangedAtMs: undefined }, {
    id: undefined, service: 'echo', address: '127.0.0.1', port: 9001, weight: 1, labels: {}, healthy: false, healthChangedAtMs: undefined,
  });
  assert.ok(instance.healthChangedAtMs >= before);
  assert.deepEqual(registry.list(), [instance]);
  assert.equal(registry.get(instance.id), instance);
});

test('registering the same service, address and port again returns the existing instance', () => {
  const registry = new InstanceRegistry();
  const changes: InstanceChange[] = [];
  registry.on('change', (c) => changes.push(c));
  const first = registry.register({ service: 'echo', address: '::1', port: 9001, labels: { v: '1' } });
  const again = registry.register({ service: 'echo', address: '0:0:0:0:0:0:0:1', port: 9001, labels: { v: '1' } });
  assert.equal(again, first);
  assert.equal(registry.list().length, 1);
  assert.deepEqual(changes.map((c) => c.type), ['registered']);

  // A re-registration with new weight or labels updates in place, same id.
  const updated = registry.register({ service: 'echo', address: '::1', port: 9001, weight: 5, labels: { v: '2' } });
  assert.equal(updated.id, first.id);
  assert.equal(updated.weight, 5);
  assert.deepEqual(updated.labels, { v: '2' });
  assert.deepEqual(changes.map((c) => c.type), ['registered', 'updated']);

  // Another port or service is another instance.
  registry.register({ service: 'echo', address: '::1', port: 9002 });
  registry.register({ service: 'api', address: '::1', port: 9001 });
  assert.equal(registry.list().length, 3);
});

test('a caller-given id is kept, and refused when another endpoint holds it', () => {
  const registry = new InstanceRegistry();
  const instance = registry.register({ id: 'echo-fra-1', service: 'echo', address: '10.0.0.1', port: 80 });
  assert.equal(instance.id, 'echo-fra-1');
  assert.throws(() => registry.register({ id: 'echo-fra-1', service: 'echo', address: '10.0.0.2', port: 80 }), InstanceIdConflictError);
});

test('setHealth emits only when health changes; deregister removes', () => {
  const registry = new InstanceRegistry();
  const instance = registry.register({ service: 'echo', address: '127.0.0.1', port: 9001 });
  const changes: InstanceChange[] = [];
  registry.on('change', (c) => changes.push(c));

  assert.equal(registry.setHealth(instance.id, false), false);
  assert.equal(registry.setHealth(instance.id, true), true);
  assert.equal(registry.setHealth(instance.id, true), false);
  assert.equal(registry.get(instance.id)?.healthy, true);
  assert.equal(registry.setHealth('nope', true), false);
  assert.deepEqual(changes.map((c) => [c.type, c.instance.healthy]), [['health', true]]);

  assert.equal(registry.deregister(instance.id), true);
  assert.equal(registry.deregister(instance.id), false);
  assert.equal(registry.get(instance.id), undefined);
  assert.deepEqual(changes.map((c) => c.type), ['health', 'deregistered']);
});

test('instances survive a new registry on the same file, health reset to unhealthy', async () => {
  const filePath = join(dir, 'state', 'instances.json');
  const first = new InstanceRegistry({ filePath });
  const a = first.register({ service: 'echo', address: '127.0.0.1', port: 9001, weight: 3, labels: { v: '1' } });
  const b = first.register({ service: 'echo', address: '::1', port: 9002 });
  const gone = first.register({ service: 'api', address: '127.0.0.1', port: 9003 });
  first.setHealth(a.id, true);
  first.deregister(gone.id);
  await first.flush();

  const second = new InstanceRegistry({ filePath });
  const loaded = second.list().sort((x, y) => x.port - y.port);
  assert.deepEqual(loaded.map((i) => ({ ...i, healthChangedAtMs: 0 })), [
    { ...a, healthy: false, healthChangedAtMs: 0 },
    { ...b, healthChangedAtMs: 0 },
  ]);
  // Re-registration after the restart is still idempotent.
  assert.equal(second.register({ service: 'echo', address: '127.0.0.1', port: 9001, weight: 3, labels: { v: '1' } }).id, a.id);
});

test('a burst of changes ends with the last state on disk', async () => {
  const filePath = join(dir, 'burst.json');
  const registry = new InstanceRegistry({ filePath });
  for (let port = 1; port <= 50; port++) registry.register({ service: 'echo', address: '127.0.0.1', port });
  await registry.flush();
  assert.equal(new InstanceRegistry({ filePath }).list().length, 50);
});

test('a corrupt file starts an empty registry, and the next save repairs it', async () => {
  const filePath = join(dir, 'corrupt.json');
  writeFileSync(filePath, '{"format": 1, "sha256": "ab');
  const registry = new InstanceRegistry({ filePath });
  assert.deepEqual(registry.list(), []);
  registry.register({ service: 'echo', address: '127.0.0.1', port: 9001 });
  await registry.flush();
  assert.equal(JSON.parse(readFileSync(filePath, 'utf8')).format, 2);
  assert.equal(new InstanceRegistry({ filePath }).list().length, 1);
});

test('flush rejects when the file cannot be written', async () => {
  const filePath = join(dir, 'unwritable.json');
  const registry = new InstanceRegistry({ filePath });
  // A non-empty directory in the target's place makes the rename fail.
  mkdirSync(join(filePath, 'blocker'), { recursive: true });
  registry.register({ service: 'echo', address: '127.0.0.1', port: 9001 });
  await assert.rejects(registry.flush());
});

test('an instance\'s other ports are kept, compared on re-registration and persisted', async () => {
  const filePath = join(dir, 'ports', 'instances.json');
  const registry = new InstanceRegistry({ filePath });
  const changes: InstanceChange[] = [];
  registry.on('change', (c) => changes.push(c));
  const first = registry.register({ service: 'echo', address: '10.0.0.1', port: 9001, ports: { admin: 9101 } });
  assert.deepEqual(first.ports, { admin: 9101 });
  assert.ok(Object.isFrozen(first.ports));

  // The same ports: unchanged, the same object (proxies are sent nothing).
  assert.equal(registry.register({ service: 'echo', address: '10.0.0.1', port: 9001, ports: { admin: 9101 } }), first);
  // Other ports: updated in place, same id.
  const moved = registry.register({ service: 'echo', address: '10.0.0.1', port: 9001, ports: { admin: 9102, grpc: 9201 } });
  assert.equal(moved.id, first.id);
  assert.deepEqual(moved.ports, { admin: 9102, grpc: 9201 });
  // None (or an empty map) takes them away.
  const none = registry.register({ service: 'echo', address: '10.0.0.1', port: 9001, ports: {} });
  assert.equal('ports' in none, false);
  assert.deepEqual(changes.map((c) => c.type), ['registered', 'updated', 'updated']);

  registry.register({ service: 'echo', address: '10.0.0.1', port: 9001, ports: { admin: 9103 } });
  const other = registry.register({ service: 'echo', address: '10.0.0.2', port: 9001 });
  await registry.flush();
  const loaded = new InstanceRegistry({ filePath });
  assert.deepEqual(loaded.get(first.id)?.ports, { admin: 9103 });
  assert.equal('ports' in loaded.get(other.id)!, false);
});
