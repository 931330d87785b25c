import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { makeInstanceToken, verifyInstanceToken } from '../../lib/auth/instance-token';
import { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import { InstanceRegistry } from './instance-registry';
import { createRegistryApiHandler } from './registry-api';
import { DEFAULT_REGISTRY_CAPS } from './registry-caps';

const mesh = generateKeyPairSync('ed25519');
const revoked = new Set<string>();
const tokenFor = (service: string, region = 'fra', ttlMs = 3600_000, key = mesh.privateKey) => makeInstanceToken(key, { region, service }, ttlMs);
const fraWide = tokenFor('*');
const allOfFra = fraWide.token;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const dir = mkdtempSync(join(tmpdir(), 'meridian-registry-api-'));
const filePath = join(dir, 'instances.json');
let server: Server;
let port: number;
let registry: InstanceRegistry;

before(async () => {
  registry = new InstanceRegistry({ filePath });
  const handler = createRegistryApiHandler({
    registry,
    knownService: (name) => name === 'echo' || name === 'api',
    region: 'fra',
    verifyToken: (token) => verifyInstanceToken(token, { publicKeys: [mesh.publicKey], isRevoked: (id) => revoked.has(id) }),
    addressPolicy: () => new InstanceAddressPolicy(['127.0.0.0/8', '::1/128', '10.0.0.0/8']),
    // The rate cap is tested in ./registry-caps.test.ts; this file's requests come as fast as they can.
    caps: { ...DEFAULT_REGISTRY_CAPS, ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
  });
  server = createServer((req, res) => {
    if (handler(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('fallback');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }

function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const post = (body: unknown, token = allOfFra): Promise<Reply> =>
  call('POST', '/v1/instances', JSON.stringify(body), { 'content-type': 'application/json', ...bearer(token) });
const del = (id: string, token = allOfFra): Promise<Reply> => call('DELETE', `/v1/instances/${id}`, undefined, bearer(token));

test('POST registers (201), is idempotent, and the registration is on disk', async () => {
  const created = await post({ service: 'echo', address: '127.0.0.1', port: 9001, labels: { version: 'v1' } });
  assert.equal(created.status, 201);
  assert.match(created.headers['content-type'] as string, /application\/json/);
  assert.match(created.json.id, /^echo-[0-9a-f]{8}$/);
  assert.deepEqual({ ...created.json, id: 'x', healthChangedAtMs: 0 }, {
    id: 'x', service: 'echo', address: '127.0.0.1', port: 9001, weight: 1, labels: { version: 'v1' }, tokenId: fraWide.claims.id, healthy: false, healthChangedAtMs: 0,
  });

  const again = await post({ service: 'echo', address: '127.0.0.1', port: 9001, labels: { version: 'v1' } });
  assert.equal(again.status, 201);
  assert.equal(again.json.id, created.json.id);

  assert.ok(new InstanceRegistry({ filePath }).get(created.json.id), 'the registration was saved before the answer');
});

test('GET lists instances, optionally by service, and one by id', async () => {
  const api = await post({ service: 'api', address: '::1', port: 8080 });
  assert.equal(api.status, 201);
  const all = await call('GET', '/v1/instances');
  assert.equal(all.status, 200);
  assert.ok(all.json.instances.length >= 2);
  const onlyApi = await call('GET', '/v1/instances?service=api');
  assert.deepEqual(onlyApi.json.instances.map((i: { id: string }) => i.id), [api.json.id]);
  const none = await call('GET', '/v1/instances?service=nothing');
  assert.deepEqual(none.json, { instances: [] });

  const one = await call('GET', `/v1/instances/${api.json.id}`);
  assert.equal(one.status, 200);
  assert.equal(one.json.address, '::1');
});

test('DELETE removes (200) and then 404', async () => {
  const created = await post({ service: 'echo', address: '10.1.2.3', port: 80 });
  const deleted = await del(created.json.id);
  assert.equal(deleted.status, 200);
  assert.equal(deleted.json.id, created.json.id);
  const again = await del(created.json.id);
  assert.equal(again.status, 404);
  assert.match(again.json.error, /no instance/);
  assert.equal((await call('GET', `/v1/instances/${created.json.id}`)).status, 404);
  assert.equal(new InstanceRegistry({ filePath }).get(created.json.id), undefined);
});

test('invalid bodies are 400 naming the field', async () => {
  const unknown = await post({ service: 'foo', address: '127.0.0.1', port: 1 });
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.json, { error: "service: unknown service 'foo'", field: 'service' });

  const badPort = await post({ service: 'echo', address: '127.0.0.1', port: 70000 });
  assert.equal(badPort.status, 400);
  assert.equal(badPort.json.field, 'port');
  assert.match(badPort.json.error, /^port: /);

  const extra = await post({ service: 'echo', address: '127.0.0.1', port: 1, colour: 'red' });
  assert.deepEqual(extra.json, { error: 'colour: unknown field', field: 'colour' });

  const conflict = await post({ id: 'fixed-1', service: 'echo', address: '127.0.0.1', port: 11 });
  assert.equal(conflict.status, 201);
  const taken = await post({ id: 'fixed-1', service: 'echo', address: '127.0.0.1', port: 12 });
  assert.equal(taken.status, 409);
  assert.equal(taken.json.field, 'id');
});

test('bad JSON is 400 and the server keeps serving', async () => {
  const bad = await call('POST', '/v1/instances', '{"service": "echo", ', { 'content-type': 'application/json', ...bearer(allOfFra) });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /^invalid JSON: /);

  const empty = await call('POST', '/v1/instances', undefined, bearer(allOfFra));
  assert.equal(empty.status, 400);
  assert.match(empty.json.error, /^invalid JSON: /);

  const notObject = await call('POST', '/v1/instances', '[1,2]', bearer(allOfFra));
  assert.deepEqual(notObject.json, { error: 'body: must be a JSON object', field: 'body' });

  assert.equal((await call('GET', '/v1/instances')).status, 200);
});

test('a body over 64 KiB is 413, declared or chunked, and the server keeps serving', async () => {
  const big = JSON.stringify({ service: 'echo', address: '127.0.0.1', port: 1, labels: { pad: 'x'.repeat(70 * 1024) } });
  const declared = await call('POST', '/v1/instances', big, { 'content-length': String(Buffer.byteLength(big)), ...bearer(allOfFra) });
  assert.equal(declared.status, 413);
  assert.match(declared.json.error, /larger than 65536 bytes/);

  const chunked = await call('POST', '/v1/instances', big, { 'transfer-encoding': 'chunked', ...bearer(allOfFra) });
  assert.equal(chunked.status, 413);

  // Just under the limit (padded with white space: labels have caps of their own).
  const padded = JSON.stringify({ service: 'echo', address: '127.0.0.1', port: 2 }) + ' '.repeat(60 * 1024);
  const fine = await call('POST', '/v1/instances', padded, { 'content-type': 'application/json', ...bearer(allOfFra) });
  assert.equal(fine.status, 201);
});

test('wrong methods are 405, malformed ids 400, other paths are left to the next handler', async () => {
  const put = await call('PUT', '/v1/instances');
  assert.equal(put.status, 405);
  assert.equal(put.headers.allow, 'GET, POST');
  assert.equal((await call('POST', '/v1/instances/some-id')).status, 405);
  assert.equal((await call('DELETE', '/v1/instances/%E0%A4%A', undefined, bearer(allOfFra))).status, 400);

  for (const path of ['/v1/instancesx', '/v1/instances/', '/v1/instances/a/b', '/v1/services', '/']) {
    const reply = await call('GET', path);
    assert.equal(reply.text, 'fallback', path);
  }
});

test('writes without a token that holds are 401 with www-authenticate, and change nothing', async () => {
  const body = { service: 'echo', address: '10.9.0.1', port: 7001 };
  const none = await call('POST', '/v1/instances', JSON.stringify(body));
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  assert.match(none.json.error, /instance token is required/);

  assert.match((await post(body, 'not-a-token')).json.error, /not an instance token/);
  const otherMesh = generateKeyPairSync('ed25519').privateKey;
  const forged = await post(body, tokenFor('echo', 'fra', 3600_000, otherMesh).token);
  assert.equal(forged.status, 401);
  assert.match(forged.json.error, /signature is not valid/);
  const expired = await post(body, makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 1000, Date.now() - 10_000).token);
  assert.equal(expired.status, 401);
  assert.match(expired.json.error, /expired at/);
  const gone = tokenFor('echo');
  revoked.add(gone.claims.id);
  const revokedReply = await post(body, gone.token);
  assert.equal(revokedReply.status, 401);
  assert.match(revokedReply.json.error, new RegExp(`${gone.claims.id} has been revoked`));
  const malformed = await call('POST', '/v1/instances', JSON.stringify(body), { authorization: 'Basic abc' });
  assert.equal(malformed.status, 401);

  const reads = (await call('GET', '/v1/instances')).json.instances as { port: number }[];
  assert.ok(!reads.some((i) => i.port === 7001), 'nothing was registered');
});

test('a token of another region or service is 403 naming why; an address outside the networks is 403 on address', async () => {
  const body = { service: 'echo', address: '10.9.0.2', port: 7002 };
  const otherRegion = await post(body, tokenFor('echo', 'sin').token);
  assert.equal(otherRegion.status, 403);
  assert.match(otherRegion.json.error, /is for region 'sin', this zone is 'fra'/);
  const otherService = await post(body, tokenFor('api').token);
  assert.equal(otherService.status, 403);
  assert.match(otherService.json.error, /is for service 'api', not 'echo'/);

  const outside = await post({ ...body, address: '192.168.1.1' }, tokenFor('echo').token);
  assert.equal(outside.status, 403);
  assert.equal(outside.json.field, 'address');
  assert.match(outside.json.error, /^address: 192\.168\.1\.1 is outside the region's instance networks/);
  const metadata = await post({ ...body, address: '169.254.169.254' }, tokenFor('echo').token);
  assert.equal(metadata.status, 403);
  assert.match(metadata.json.error, /cloud metadata/);

  const echoToken = tokenFor('echo');
  const created = await post(body, echoToken.token);
  assert.equal(created.status, 201);
  assert.equal(created.json.tokenId, echoToken.claims.id);
  const byApi = await del(created.json.id, tokenFor('api').token);
  assert.equal(byApi.status, 403);
  assert.match(byApi.json.error, /may not deregister instances of 'echo'/);
  assert.equal((await del(created.json.id, tokenFor('echo', 'sin').token)).status, 403);
  assert.equal((await del(created.json.id, 'junk')).status, 401);
  assert.equal((await call('DELETE', `/v1/instances/${created.json.id}`)).status, 401);
  assert.equal((await del(created.json.id, echoToken.token)).status, 200);
});

test('reads with a token show only its service; a bad token is 401 even on loopback', async () => {
  await post({ service: 'api', address: '10.9.0.3', port: 7003 });
  const echoInstance = await post({ service: 'echo', address: '10.9.0.3', port: 7004 });
  const asApi = await call('GET', '/v1/instances', undefined, bearer(tokenFor('api').token));
  assert.equal(asApi.status, 200);
  assert.ok(asApi.json.instances.length > 0);
  assert.ok(asApi.json.instances.every((i: { service: string }) => i.service === 'api'));
  const all = await call('GET', '/v1/instances', undefined, bearer(allOfFra));
  assert.ok(all.json.instances.some((i: { service: string }) => i.service === 'echo'));
  const one = await call('GET', `/v1/instances/${echoInstance.json.id}`, undefined, bearer(tokenFor('api').token));
  assert.equal(one.status, 403);
  const bad = await call('GET', '/v1/instances', undefined, bearer('junk'));
  assert.equal(bad.status, 401);
  assert.equal(bad.headers['www-authenticate'], 'Bearer');
});
