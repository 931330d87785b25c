// The registry API's caps, each at its value (taken) and one past it
// (refused with 413 or 429 naming the cap and its value, nothing stored or
// journalled, the refusal counted), with the rate buckets on a test clock.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { makeInstanceToken, verifyInstanceToken } from '../../lib/auth/instance-token';
import { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import { InstanceRegistry } from './instance-registry';
import { createRegistryApiHandler } from './registry-api';
import type { CapName, RegistryCaps } from './registry-caps';

const CAPS: RegistryCaps = {
  maxInstances: 5,
  maxInstancesPerService: 3,
  maxLabels: 4,
  maxLabelBytes: 100,
  maxLabelKeyBytes: 10,
  maxLabelValueBytes: 40,
  ratePerSecond: 10,
  rateBurst: 20,
};

const mesh = generateKeyPairSync('ed25519');
const tokenFor = (service: string) => makeInstanceToken(mesh.privateKey, { region: 'fra', service }, 3600_000).token;
const fraWide = tokenFor('*');

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; json: any }

describe('registry caps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-registry-caps-'));
  const filePath = join(dir, 'instances.json');
  let server: Server;
  let port: number;
  let registry: InstanceRegistry;
  let nowMs = 0;
  const refused: CapName[] = [];

  before(async () => {
    registry = new InstanceRegistry({ filePath });
    const handler = createRegistryApiHandler({
      registry,
      knownService: (name) => name === 'echo' || name === 'api',
      region: 'fra',
      verifyToken: (token) => verifyInstanceToken(token, { publicKeys: [mesh.publicKey], isRevoked: () => false }),
      addressPolicy: () => new InstanceAddressPolicy(['127.0.0.0/8']),
      caps: CAPS,
      now: () => nowMs,
      onRefused: (cap) => refused.push(cap),
    });
    server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  // Every bucket full again: only the rate test spends them.
  beforeEach(() => {
    nowMs += 60_000;
  });

  function call(method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
      const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
  const post = (body: Record<string, unknown>, token = fraWide) => call('POST', '/v1/instances', token, body);

  // What the registry holds and has on disk.
  async function stored(): Promise<string> {
    await registry.flush();
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    return JSON.stringify({ instances: registry.list(), file: read(filePath), journal: read(`${filePath}.journal`) });
  }

  // Refused by `cap` with `status`, the cap and its value named, nothing stored.
  async function assertRefused(send: () => Promise<Reply>, status: number, cap: CapName, limit: number): Promise<Reply> {
    const before = await stored();
    const counted = refused.length;
    const reply = await send();
    assert.equal(reply.status, status, JSON.stringify(reply.json));
    assert.equal(reply.json.cap, cap);
    assert.equal(reply.json.limit, limit);
    assert.ok(reply.json.error.includes(`(${cap})`) && reply.json.error.includes(String(limit)), reply.json.error);
    assert.equal(await stored(), before, 'nothing stored or journalled');
    assert.deepEqual(refused.slice(counted), [cap]);
    return reply;
  }

  const labels = (n: number, valueBytes: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'.repeat(valueBytes)]));

  it('labels per instance: 4 taken, 5 refused with 413', async () => {
    assert.equal((await post({ id: 'l-count', service: 'echo', address: '127.0.0.1', port: 1001, labels: labels(4, 1) })).status, 201);
    await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 1002, labels: labels(5, 1) }), 413, 'labels-per-instance', 4);
    assert.equal((await call('DELETE', '/v1/instances/l-count', fraWide)).status, 200);
  });

  it('label bytes per instance: keys and values of 100 bytes taken, 101 refused with 413', async () => {
    // 4 keys of 2 bytes, values of 23: 100 bytes.
    assert.equal((await post({ id: 'l-bytes', service: 'echo', address: '127.0.0.1', port: 1003, labels: labels(4, 23) })).status, 201);
    const over = { ...labels(4, 23), k3: 'v'.repeat(24) };
    await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 1004, labels: over }), 413, 'label-bytes-per-instance', 100);
    // Re-registering the instance held with more labels is refused too, and it keeps its labels.
    await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 1003, labels: over }), 413, 'label-bytes-per-instance', 100);
    assert.deepEqual(registry.get('l-bytes')!.labels, labels(4, 23));
    assert.equal((await call('DELETE', '/v1/instances/l-bytes', fraWide)).status, 200);
  });

  it('label key and value bytes: 10 and 40 taken, 11 and 41 refused with 413, counted in UTF-8 bytes', async () => {
    assert.equal((await post({ id: 'l-kv', service: 'echo', address: '127.0.0.1', port: 1005, labels: { abcdefghij: 'é'.repeat(20) } })).status, 201);
    const key = await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 1006, labels: { abcdefghijk: 'x' } }), 413, 'label-key-bytes', 10);
    assert.equal(key.json.field, 'labels.abcdefghijk');
    const value = await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 1006, labels: { v: 'é'.repeat(20) + 'x' } }), 413, 'label-value-bytes', 40);
    assert.equal(value.json.field, 'labels.v');
    assert.equal((await call('DELETE', '/v1/instances/l-kv', fraWide)).status, 200);
  });

  it('instances per service and per zone: up to the cap taken, one more refused with 429', async () => {
    assert.equal(registry.size, 0);
    for (const p of [2001, 2002, 2003]) assert.equal((await post({ service: 'echo', address: '127.0.0.1', port: p })).status, 201);
    await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 2004 }), 429, 'instances-per-service', 3);
    // At the cap, an instance held may still be registered again (an update).
    const updated = await post({ service: 'echo', address: '127.0.0.1', port: 2003, labels: { version: 'v2' } });
    assert.equal(updated.status, 201);
    assert.deepEqual(updated.json.labels, { version: 'v2' });

    for (const p of [3001, 3002]) assert.equal((await post({ service: 'api', address: '127.0.0.1', port: p })).status, 201);
    assert.equal(registry.size, 5);
    await assertRefused(() => post({ service: 'api', address: '127.0.0.1', port: 3003 }), 429, 'instances-per-zone', 5);

    // Room again once one goes.
    const id = registry.ofService('api')[0]!.id;
    assert.equal((await call('DELETE', `/v1/instances/${id}`, fraWide)).status, 200);
    assert.equal((await post({ service: 'api', address: '127.0.0.1', port: 3003 })).status, 201);
    for (const i of registry.list()) assert.equal((await call('DELETE', `/v1/instances/${i.id}`, fraWide)).status, 200);
  });

  it('requests per credential: the burst taken, then 429 with Retry-After until the bucket refills', async () => {
    const token = tokenFor('echo');
    for (let i = 0; i < CAPS.rateBurst; i++) assert.equal((await call('GET', '/v1/instances', token)).status, 200, `request ${i + 1}`);
    const reply = await assertRefused(() => post({ service: 'echo', address: '127.0.0.1', port: 4001 }, token), 429, 'requests-per-second', 10);
    assert.equal(reply.headers['retry-after'], '1');
    // Another credential has its own bucket: another token, and the loopback caller.
    assert.equal((await call('GET', '/v1/instances', tokenFor('api'))).status, 200);
    assert.equal((await call('GET', '/v1/instances', undefined)).status, 200);
    // 10 per second: a tenth of a second gives one request, not two.
    nowMs += 99;
    await assertRefused(() => call('GET', '/v1/instances', token), 429, 'requests-per-second', 10);
    nowMs += 1;
    assert.equal((await post({ id: 'rated', service: 'echo', address: '127.0.0.1', port: 4001 }, token)).status, 201);
    await assertRefused(() => call('DELETE', '/v1/instances/rated', token), 429, 'requests-per-second', 10);
    assert.ok(registry.get('rated'), 'a refused DELETE removes nothing');
    nowMs += 100;
    assert.equal((await call('DELETE', '/v1/instances/rated', token)).status, 200);
  });
});
