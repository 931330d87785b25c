// The admin API and the CLI against a real global controller on real etcd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { ADMIN_TOKEN, ControlPlane, READ_TOKEN } from './harness/global-controller-process';
import { MERIDIAN_BIN, repoRoot } from '../test-support/repo-root';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MERIDIAN_BIN(), ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('admin API and CLI', () => {
  const cp = new ControlPlane();
  let env: Record<string, string>;

  before(async () => {
    await cp.start(1);
    env = { MERIDIAN_SERVER: cp.primary.url, MERIDIAN_TOKEN: ADMIN_TOKEN };
  });
  after(() => cp.stop());

  it('meridian apply -f examples/ then get services -o json shows them', async () => {
    const applied = await cli(['apply', '-f', path.join(repoRoot(), 'examples')], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /service\/echo (created|updated|unchanged)/);
    assert.match(applied.stdout, /region\/fra (created|updated|unchanged)/);
    const got = await cli(['get', 'services', '-o', 'json'], env);
    assert.equal(got.code, 0, got.stderr);
    const list = JSON.parse(got.stdout);
    assert.ok(list.items.some((s: { metadata: { name: string } }) => s.metadata.name === 'echo'));
    const regions = await cli(['get', 'regions', '-o', 'json'], env);
    assert.deepEqual(JSON.parse(regions.stdout).items.map((r: { metadata: { name: string } }) => r.metadata.name).sort(), ['fra', 'iad', 'sin']);
    // A second apply of the same documents changes nothing.
    const again = await cli(['apply', '-f', path.join(repoRoot(), 'examples')], env);
    assert.match(again.stdout, /service\/echo unchanged/);
  });

  it('refuses a batch with one invalid document whole, naming the field', async () => {
    const before = await cp.api('GET', '/v1/resources/services');
    const res = await cp.api('POST', '/v1/apply', [
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'good-one' }, spec: {} },
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'bad-one' }, spec: { ports: [{ name: 'http', port: 70000, protocol: 'http' }] } },
    ]);
    assert.equal(res.status, 400);
    assert.match(res.body.error, /document 1 \(Service\/bad-one\): spec\.ports\[0\]\.port/);
    assert.equal(res.body.details[0].path, 'spec.ports[0].port');
    const afterList = await cp.api('GET', '/v1/resources/services');
    assert.deepEqual(afterList.body.items, before.body.items, 'nothing was applied');
    assert.equal((await cp.api('GET', '/v1/resources/services/good-one')).status, 404);
  });

  it('answers 400 for an unknown kind, 413 over the body limit, 401 for a bad token, 403 for a read token writing', async () => {
    const unknown = await cp.api('POST', '/v1/apply', [{ apiVersion: 'meridian.dev/v1', kind: 'Gateway', metadata: { name: 'x' }, spec: {} }]);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /kind/);
    assert.equal((await cp.api('GET', '/v1/resources/gateways')).status, 400);

    const big = await cp.api('POST', '/v1/apply', 'x'.repeat(5 * 1024 * 1024));
    assert.equal(big.status, 413);

    assert.equal((await cp.api('GET', '/v1/resources/services', undefined, 'wrong-token-wrong-token')).status, 401);
    const noAuth = await fetch(`${cp.primary.url}/v1/resources/services`);
    assert.equal(noAuth.status, 401);
    assert.equal((await cp.api('GET', '/v1/resources/services', undefined, READ_TOKEN)).status, 200);
    const readWrite = await cp.api('POST', '/v1/apply', [{ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'x' }, spec: {} }], READ_TOKEN);
    assert.equal(readWrite.status, 403);
    assert.equal((await cp.api('POST', '/v1/tokens', { region: 'fra' }, READ_TOKEN)).status, 403);
    // The controller keeps serving after all of that.
    assert.equal((await cp.primary.health()).ok, true);
  });

  it('gets one resource as JSON or YAML, applies with optimistic concurrency, deletes', async () => {
    const created = await cp.api('POST', '/v1/apply', [{ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'occ' }, spec: {} }]);
    assert.equal(created.status, 200);
    assert.deepEqual(created.body.results, [{ kind: 'Service', name: 'occ', action: 'created' }]);
    const got = await cp.api('GET', '/v1/resources/service/occ');
    const rv = got.body.metadata.resourceVersion;
    assert.match(rv, /^\d+$/);
    const yaml = await fetch(`${cp.primary.url}/v1/resources/services/occ?output=yaml`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.match(await yaml.text(), /kind: Service\n/);

    const update = (version: string) =>
      cp.api('POST', '/v1/apply', [{ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'occ', resourceVersion: version }, spec: { hosts: ['occ.example.com'] } }]);
    assert.equal((await update(rv)).status, 200);
    const stale = await update(rv);
    assert.equal(stale.status, 409, 'a stale resourceVersion is refused');

    const del = await cli(['delete', 'service', 'occ'], env);
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await cp.api('GET', '/v1/resources/services/occ')).status, 404);
    const again = await cli(['delete', 'service', 'occ'], env);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /^error: .*not found/m);
  });

  it('CLI failures are one clear line and a non-zero exit', async () => {
    const unreachable = await cli(['get', 'services'], { MERIDIAN_SERVER: 'http://127.0.0.1:1', MERIDIAN_TOKEN: ADMIN_TOKEN });
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr.trim(), /^error: cannot reach the global controller at http:\/\/127\.0\.0\.1:1/);
    assert.equal(unreachable.stderr.trim().split('\n').length, 1);

    const unauthorized = await cli(['get', 'services'], { ...env, MERIDIAN_TOKEN: 'nope-nope-nope-nope' });
    assert.notEqual(unauthorized.code, 0);
    assert.match(unauthorized.stderr, /^error: not authorized/m);

    const token = await cli(['token', 'create', '--region', 'fra'], env);
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^mzt1\.[\w-]+\.[\w-]+$/);
  });
});
