// `meridian edge` as a real process: bin/meridian -> cli -> edge/main.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ROOT, startEdge, writeConfig } from './testing/edge-process';
import { get } from './testing/http-client';
import { instanceDoc, serviceDoc, TestUpstream } from './testing/upstream-server';
import { freePort } from '../lib/process/free-port';
import { findSample, readSamples } from '../test-support/metric-samples';
import { request as undiciRequest } from 'undici';

function run(args: string[], timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'edge', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('meridian edge (process)', () => {
  let dir: string;
  let up: TestUpstream;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-edge-'));
    up = await TestUpstream.start('echo-1');
    up.behaviour = (req, res) => {
      if (req.url !== '/slow') return false;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('slow done');
      }, 1_500);
      return true;
    };
  });
  after(async () => {
    await up.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves from a static config, and on SIGTERM finishes the request in flight and exits 0', async () => {
    const config = writeConfig(dir, [serviceDoc('echo', { hosts: ['echo.example.com'] }), instanceDoc('echo-1', 'echo', up.port)]);
    const edge = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--name', 'proc-edge', '--drain-period', '120s', '--access-log-sample', '0']);
    try {
      const r = await get(edge.port, '/hello', { host: 'echo.example.com' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-meridian-edge'], 'proc-edge');
      assert.equal((await get(edge.admin, '/healthz')).status, 200);

      const slow = get(edge.port, '/slow', { host: 'echo.mesh' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      edge.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(await refused(edge.port), 'no new connections once draining');
      const answer = await slow;
      assert.equal(answer.status, 200);
      assert.equal(answer.text, 'slow done');
      assert.equal(await edge.exit, 0);
      // Exited once the request was done, not at the end of the drain period.
      assert.ok(edge.stdout.some((l) => l.includes('"msg":"drained"')));
      assert.ok(!edge.stdout.some((l) => l.includes('drain period over')), 'the request in flight ended the drain');
    } finally {
      edge.child.kill('SIGKILL');
    }
  });

  it('refuses an invalid config at start, naming the document and the field', async () => {
    const config = writeConfig(dir, [instanceDoc('echo-1', 'echo', up.port), serviceDoc('echo', { ports: [{ name: 'http', port: 0 }] })]);
    const r = await run(['--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error: .*edge-.*\.yaml: document 1 \(Service\/echo\): spec\.ports\[0\]\.port: must be an integer from 1 to 65535/);
  });

  it('explains bad flags and prints its usage', async () => {
    const bad = await run(['--config', 'x.yaml', '--http', 'nowhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--http: expected HOST:PORT, got 'nowhere'/);
    const badOtlp = await run(['--config', 'x.yaml', '--otlp-endpoint', 'collector:4318']);
    assert.equal(badOtlp.code, 2);
    assert.match(badOtlp.stderr, /--otlp-endpoint: 'collector:4318': only http and https are supported/);
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: meridian edge/);
  });

  it('/v1/view answers callers on this host with or without --admin-token-file; /healthz and /metrics stay open', async () => {
    // A caller on another host is refused unless it brings the token: that
    // decision is lib/auth/local-admin-access.ts's (its unit tests), seen
    // from another node in netns-tests/bootstrap.test.ts; here every request
    // goes to loopback.
    const tokenFile = path.join(dir, 'admin-token');
    fs.writeFileSync(tokenFile, 'edge-admin-token-0123456789\n', { mode: 0o600 });
    const config = writeConfig(dir, [serviceDoc('echo'), instanceDoc('echo-1', 'echo', up.port)]);
    const request = async (admin: number, urlPath: string, headers: Record<string, string> = {}) => {
      const res = await undiciRequest(`http://127.0.0.1:${admin}${urlPath}`, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
      return { status: res.statusCode, text: await res.body.text() };
    };
    const withToken = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--admin-token-file', tokenFile, '--access-log-sample', '0']);
    const without = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log-sample', '0']);
    try {
      for (const edge of [withToken, without]) {
        const local = await request(edge.admin, '/v1/view');
        assert.equal(local.status, 200, 'loopback callers need no token');
        assert.ok(JSON.parse(local.text).services.echo);
        assert.equal((await request(edge.admin, '/healthz')).status, 200);
        assert.equal((await request(edge.admin, '/metrics')).status, 200);
      }
      const right = await request(withToken.admin, '/v1/view', { authorization: 'Bearer edge-admin-token-0123456789' });
      assert.equal(right.status, 200, 'the token is accepted where it is not needed');
    } finally {
      withToken.child.kill('SIGKILL');
      without.child.kill('SIGKILL');
    }
  });

  it('refuses an --admin-token-file that is missing or too short, naming it', async () => {
    const short = path.join(dir, 'short-token');
    fs.writeFileSync(short, 'abc\n');
    const r = await run(['--config', 'x.yaml', '--admin', '127.0.0.1:0', '--admin-token-file', short]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--admin-token-file .*short-token: a token has at least 16 characters/);
  });

  it('runs several workers sharing the listener, with metrics aggregated by the primary', async () => {
    const config = writeConfig(dir, [serviceDoc('echo'), instanceDoc('echo-1', 'echo', up.port)]);
    const port = await freePort();
    const adminPort = await freePort();
    const edge = await startEdge(['--config', config, '--http', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`, '--workers', '2', '--access-log-sample', '0'], 'primary started');
    try {
      await waitFor(async () => (await get(port, '/', { host: 'echo.mesh' }).catch(() => undefined))?.status === 200, 10_000);
      for (let i = 0; i < 20; i++) assert.equal((await get(port, '/', { host: 'echo.mesh' })).status, 200);
      const metrics = await get(adminPort, '/metrics');
      const answered = findSample(readSamples(metrics.text), 'meridian_edge_requests_total', { service: 'echo' });
      assert.ok(answered && answered.value >= 20, metrics.text);
      const view = (await get(adminPort, '/v1/view')).json<{ workers: number; services: Record<string, unknown> }>();
      assert.equal(view.workers, 2);
      assert.ok(view.services.echo);
      edge.child.kill('SIGTERM');
      assert.equal(await edge.exit, 0);
    } finally {
      edge.child.kill('SIGKILL');
    }
  });
});


async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not true within ${timeoutMs} ms`);
}
