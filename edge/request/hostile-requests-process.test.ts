// What a hostile client sends, through the real `meridian edge --config`
// process, and what the instance behind it and the access log see: an
// absolute-form target with another Host, forwarding headers made up by the
// client (believed only from --trusted-proxies), dot segments that climb
// out of a route, a secret in the query string, malformed or encoded path
// escapes. After each, the edge still serves a plain request.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ROOT, startEdge, writeConfig, type Running } from '../testing/edge-process';
import { get } from '../testing/http-client';
import { rawExchange } from '../testing/raw-socket';
import { instanceDoc, serviceDoc, TestUpstream, type Received } from '../testing/upstream-server';

// Bounds a hang only: on a loaded machine a process takes seconds to start.
const START_TIMEOUT_MS = 120_000;

interface AccessLine {
  url: string;
  status: number;
  remote: string;
  client: string;
  requestId: string;
}

function rawGet(port: number, target: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const lines = [`GET ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', ''];
  return rawExchange(port, lines.join('\r\n'), 30_000).then((r) => {
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(r.data);
    assert.ok(m, `an HTTP answer, got ${JSON.stringify(r.data.slice(0, 200))}`);
    return { status: Number(m[1]), text: r.data.slice(r.data.indexOf('\r\n\r\n') + 4) };
  });
}

// The access-log line of a request, once written (lines go out at least every second).
async function accessLine(edge: Running, requestId: string): Promise<AccessLine> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    for (const l of edge.stdout) {
      if (!l.includes('"msg":"request"') || !l.includes(requestId)) continue;
      const rec = JSON.parse(l) as AccessLine;
      if (rec.requestId === requestId) return rec;
    }
    if (Date.now() > deadline) throw new Error(`no access-log line for ${requestId}: ${edge.stdout.slice(-5).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'edge', ...args], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('hostile requests (meridian edge process)', () => {
  let dir: string;
  let echo: TestUpstream;
  let files: TestUpstream;
  // No --trusted-proxies: every client's forwarding headers are replaced.
  let edge: Running;
  // --trusted-proxies 127.0.0.0/8 (the test client's address) and full queries in the log.
  let behindLb: Running;
  let n = 0;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-hostile-'));
    echo = await TestUpstream.start('echo-1');
    files = await TestUpstream.start('files-1');
    const config = writeConfig(dir, [
      serviceDoc('echo', { hosts: ['echo.example.com'] }),
      instanceDoc('echo-1', 'echo', echo.port),
      serviceDoc('files', { hosts: ['files.example.com'], routes: [{ pathPrefix: '/public' }] }),
      instanceDoc('files-1', 'files', files.port),
    ]);
    edge = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--access-log-sample', '1'], 'edge started', START_TIMEOUT_MS);
    behindLb = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--access-log-sample', '1', '--trusted-proxies', '10.0.0.0/8,127.0.0.0/8', '--access-log-query', 'full'], 'edge started', START_TIMEOUT_MS);
  });

  after(async () => {
    for (const e of [edge, behindLb]) {
      e?.child.kill('SIGKILL');
      await e?.exit;
    }
    await echo.close();
    await files.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const id = () => `hostile-${++n}`;

  async function stillServes(e: Running): Promise<void> {
    const r = await get(e.port, '/still', { host: 'echo.example.com', timeoutMs: 30_000 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json<{ url: string }>().url, '/still');
  }

  function seenBy(up: TestUpstream, requestId: string): Received {
    const seen = up.received.find((r) => r.headers['x-request-id'] === requestId);
    assert.ok(seen, `the instance received ${requestId}`);
    return seen;
  }

  it('routes an absolute-form target by its authority and forwards that host, not the Host header', async () => {
    const rid = id();
    const r = await rawGet(edge.port, 'http://echo.example.com/abs', { Host: 'attacker.example', 'X-Request-Id': rid });
    assert.equal(r.status, 200, r.text);
    const seen = seenBy(echo, rid);
    assert.equal(seen.url, '/abs');
    assert.equal(seen.headers.host, 'echo.example.com');
    assert.equal(seen.headers['x-forwarded-host'], 'echo.example.com');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host="echo.example.com";proto=http');
    const refused = await rawGet(edge.port, 'http://echo.example.com@attacker.example/', { Host: 'echo.example.com' });
    assert.equal(refused.status, 400);
    assert.equal(refused.text, 'userinfo in the request target\n');
    await stillServes(edge);
  });

  it("replaces a client's x-forwarded-for, -proto, -host and Forwarded with what the edge saw", async () => {
    const rid = id();
    const spoofed = { 'X-Forwarded-For': '1.2.3.4', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'attacker.example', Forwarded: 'for=1.2.3.4' };
    const r = await rawGet(edge.port, '/x', { Host: 'echo.example.com', 'X-Request-Id': rid, ...spoofed });
    assert.equal(r.status, 200, r.text);
    const seen = seenBy(echo, rid);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'echo.example.com');
    assert.equal(seen.headers.forwarded, 'for=127.0.0.1;host="echo.example.com";proto=http');
    assert.equal((await accessLine(edge, rid)).client, '127.0.0.1');
    await stillServes(edge);
  });

  it('behind a trusted proxy appends to x-forwarded-for and logs the right-most untrusted address as the client', async () => {
    const rid = id();
    const r = await rawGet(behindLb.port, '/x', {
      Host: 'echo.example.com',
      'X-Request-Id': rid,
      'X-Forwarded-For': '1.2.3.4, 198.51.100.7, 10.0.0.2',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'www.example.com',
    });
    assert.equal(r.status, 200, r.text);
    const seen = seenBy(echo, rid);
    assert.equal(seen.headers['x-forwarded-for'], '1.2.3.4, 198.51.100.7, 10.0.0.2, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-host'], 'www.example.com');
    const line = await accessLine(behindLb, rid);
    assert.equal(line.client, '198.51.100.7');
    assert.equal(line.remote, '127.0.0.1');
    await stillServes(behindLb);
  });

  it('routes and forwards the path with its dot segments removed', async () => {
    const rid = id();
    const r = await rawGet(edge.port, '/a/../../etc/passwd', { Host: 'echo.example.com', 'X-Request-Id': rid });
    assert.equal(r.status, 200, r.text);
    assert.equal(seenBy(echo, rid).url, '/etc/passwd');
    // Climbing out of the only route of files.example.com leaves no route.
    const out = await rawGet(edge.port, '/public/../../etc/passwd', { Host: 'files.example.com' });
    assert.equal(out.status, 404);
    assert.equal(out.text, "no route for path '/etc/passwd' on host 'files.example.com'\n");
    const inside = await rawGet(edge.port, '/public/a/./b/../c?x=/../y', { Host: 'files.example.com', 'X-Request-Id': id() });
    assert.equal(inside.status, 200, inside.text);
    assert.equal(JSON.parse(inside.text).url, '/public/a/c?x=/../y', 'the query passes unchanged');
    assert.equal(files.received.length, 1, 'only the request inside the route reached files');
    await stillServes(edge);
  });

  it('passes a query on unchanged and logs it redacted, unless --access-log-query full', async () => {
    const rid = id();
    const r = await rawGet(edge.port, '/q?token=SECRET123', { Host: 'echo.example.com', 'X-Request-Id': rid });
    assert.equal(r.status, 200, r.text);
    assert.equal(seenBy(echo, rid).url, '/q?token=SECRET123');
    assert.equal((await accessLine(edge, rid)).url, '/q?<redacted>');
    assert.ok(!edge.stdout.some((l) => l.includes('SECRET123')), 'the secret is nowhere in the output');

    const full = id();
    await rawGet(behindLb.port, '/q?token=SECRET456', { Host: 'echo.example.com', 'X-Request-Id': full });
    assert.equal((await accessLine(behindLb, full)).url, '/q?token=SECRET456');
  });

  it('answers 400 with a short reason to malformed and encoded path escapes, and keeps serving', async () => {
    const before = echo.received.length;
    const cases: [string, string][] = [
      ['/%E0%A4%A', 'malformed percent-encoding in the path'],
      ['/%zz', 'malformed percent-encoding in the path'],
      ['/a%2F..%2Fetc', 'encoded slash (%2F) in the path'],
      ['/a/%2E%2E/etc/passwd', 'encoded dot segment (%2E) in the path'],
    ];
    for (const [target, reason] of cases) {
      const rid = id();
      const r = await rawGet(edge.port, target, { Host: 'echo.example.com', 'X-Request-Id': rid });
      assert.equal(r.status, 400, target);
      assert.equal(r.text, `${reason}\n`, target);
      assert.equal((await accessLine(edge, rid)).status, 400);
      await stillServes(edge);
    }
    assert.equal(echo.received.length, before + cases.length, 'only the plain requests reached the instance');
    const output = edge.stdout.join('\n') + edge.stderr.join('');
    assert.doesNotMatch(output, /\n\s+at |"stack"|URIError/, 'no stack trace in the output');
  });

  it('refuses bad --trusted-proxies and --access-log-query values, naming the flag', async () => {
    const config = writeConfig(dir, [serviceDoc('echo')]);
    const bad = await run(['--config', config, '--http', '127.0.0.1:0', '--trusted-proxies', '10.0.0.0/33']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--trusted-proxies: prefix length must be from 0 to 32/);
    const query = await run(['--config', config, '--http', '127.0.0.1:0', '--access-log-query', 'names']);
    assert.equal(query.code, 2, query.stderr);
    assert.match(query.stderr, /--access-log-query: expected redacted or full, got 'names'/);
  });
});
