// HTTP/2 rapid reset (CVE-2023-44487) against the real `meridian edge`
// process, on both HTTP/2 listeners (h2c with prior knowledge on --http, h2
// by ALPN on --https): a node:http2 client that opens streams and resets them
// at once gets a GOAWAY (ENHANCE_YOUR_CALM) and its connection closed; the
// requests that reached the instance stay a small multiple of the concurrent
// stream limit, each aborted by the edge when its stream was reset; the
// advertised SETTINGS_MAX_CONCURRENT_STREAMS is the configured one; the
// connection is counted in the metrics and the edge goes on serving.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selfSigned } from '../testing/certificates';
import { startEdge, writeConfig, type Running } from '../testing/edge-process';
import { get } from '../testing/http-client';
import { instanceDoc, serviceDoc } from '../testing/upstream-server';

const STREAMS = 120;
// Low, so a busy machine's slower attacker still goes over it.
const RESETS_PER_SECOND = 50;
// The attacker's bounds: streams opened, and time.
const ATTACK_STREAMS = 20_000;
const ATTACK_MS = 20_000;

// An instance that counts the requests it was sent and answers each after
// 300 ms, so a reset stream's request is still waiting when the edge drops it.
class CountingInstance {
  started = 0;
  answered = 0;
  // Requests whose connection the edge closed before the answer.
  abandoned = 0;
  port = 0;
  private readonly server = http.createServer((req, res) => {
    this.started++;
    req.resume();
    const timer = setTimeout(() => {
      this.answered++;
      res.end('late answer');
    }, 300);
    res.on('close', () => {
      if (!res.writableFinished) {
        clearTimeout(timer);
        this.abandoned++;
      }
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Attack {
  opened: number;
  goawayCode: number | undefined;
  closed: boolean;
  advertisedStreams: number | undefined;
}

// HEADERS then RST_STREAM (CANCEL), as fast as the client can, until the
// connection is closed or the bounds are reached. Streams go in batches of 50:
// their HEADERS are let out first (a stream reset before its HEADERS left is
// never sent), then all 50 are reset.
async function rapidReset(authority: string, options: http2.SecureClientSessionOptions): Promise<Attack> {
  const session = http2.connect(authority, options);
  const result: Attack = { opened: 0, goawayCode: undefined, closed: false, advertisedStreams: undefined };
  session.on('error', () => undefined);
  session.on('goaway', (code) => (result.goawayCode ??= code));
  const closed = new Promise<void>((resolve) => session.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', (settings) => {
      result.advertisedStreams = settings.maxConcurrentStreams;
      resolve();
    });
    session.once('error', reject);
  });
  const deadline = Date.now() + ATTACK_MS;
  const live = () => !session.closed && !session.destroyed && result.goawayCode === undefined;
  while (result.opened < ATTACK_STREAMS && Date.now() < deadline && live()) {
    const batch: http2.ClientHttp2Stream[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const stream = session.request({ ':path': `/attack/${result.opened}`, ':authority': 'echo.mesh' });
        stream.on('error', () => undefined);
        batch.push(stream);
        result.opened++;
      }
    } catch {
      break;
    }
    await new Promise((r) => setImmediate(r));
    for (const stream of batch) stream.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
  result.closed = session.closed || session.destroyed;
  session.destroy();
  return result;
}

const CLOSED_FOR_RAPID_RESET = /^meridian_edge_http2_connections_closed_total\{[^}]*reason="rapid-reset"[^}]*\} (\d+)/m;

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function metric(adminPort: number, line: RegExp): Promise<number> {
  const r = await get(adminPort, '/metrics');
  const m = line.exec(r.text);
  return m === null ? 0 : Number(m[1]);
}

// One request on a new HTTP/2 connection.
function h2Get(authority: string, options: http2.SecureClientSessionOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, options);
    session.on('error', reject);
    const stream = session.request({ ':path': '/after', ':authority': 'echo.mesh' });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (d: Buffer) => (body += d.toString()));
    stream.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    stream.on('error', reject);
    stream.setTimeout(10_000, () => reject(new Error('no answer in 10 s')));
  });
}

describe('HTTP/2 rapid reset (meridian edge process)', () => {
  let dir: string;
  let instance: CountingInstance;
  let edge: Running;
  let httpsPort = 0;
  const cert = selfSigned('echo.mesh');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-rapid-reset-'));
    instance = new CountingInstance();
    await instance.start();
    fs.writeFileSync(path.join(dir, 'echo.crt'), cert.cert);
    fs.writeFileSync(path.join(dir, 'echo.key'), cert.key);
    const config = writeConfig(dir, [serviceDoc('echo'), instanceDoc('echo-1', 'echo', instance.port)]);
    edge = await startEdge([
      '--config', config,
      '--http', '127.0.0.1:0',
      '--https', '127.0.0.1:0',
      '--cert', path.join(dir, 'echo.crt'),
      '--key', path.join(dir, 'echo.key'),
      '--admin', '127.0.0.1:0',
      '--access-log-sample', '0',
      '--http2-max-concurrent-streams', String(STREAMS),
      '--http2-max-resets-per-second', String(RESETS_PER_SECOND),
    ], 'edge started', 60_000);
    const started = edge.stdout.map((l) => JSON.parse(l) as { msg?: string; https?: { port: number } }).find((r) => r.msg === 'edge started');
    httpsPort = started!.https!.port;
  });

  after(async () => {
    if (edge !== undefined) {
      edge.child.kill('SIGKILL');
      await edge.exit;
    }
    await instance.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const listeners: [string, () => [string, http2.SecureClientSessionOptions]][] = [
    ['h2c with prior knowledge (--http)', () => [`http://127.0.0.1:${edge.port}`, {}]],
    ['h2 by ALPN (--https)', () => [`https://127.0.0.1:${httpsPort}`, { ca: cert.cert, servername: 'echo.mesh' }]],
  ];

  for (const [name, target] of listeners) {
    it(`${name}: GOAWAY (ENHANCE_YOUR_CALM) and the connection closed, the instance's requests bounded and aborted`, async () => {
      const [authority, options] = target();
      const startedBefore = instance.started;
      const answeredBefore = instance.answered;
      const closedBefore = await metric(edge.admin, CLOSED_FOR_RAPID_RESET);

      const attack = await rapidReset(authority, options);
      console.log(`${name}: ${attack.opened} streams opened and reset; the instance was sent ${instance.started - startedBefore} requests`);

      assert.equal(attack.advertisedStreams, STREAMS, 'SETTINGS_MAX_CONCURRENT_STREAMS advertised');
      assert.equal(attack.goawayCode, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 'GOAWAY code');
      assert.ok(attack.closed, 'the edge closed the connection');
      assert.ok(attack.opened < ATTACK_STREAMS, `the client could open all ${attack.opened} streams`);
      const reached = instance.started - startedBefore;
      assert.ok(reached <= 3 * STREAMS, `${reached} requests reached the instance (limit ${3 * STREAMS})`);
      // Every one of them was dropped by the edge before its answer.
      await until('the edge to abort every request it started', () => instance.abandoned + instance.answered === instance.started);
      assert.equal(instance.answered, answeredBefore, 'the instance answered a request whose stream was reset');
      assert.equal(
        await metric(edge.admin, CLOSED_FOR_RAPID_RESET),
        closedBefore + 1,
        'meridian_edge_http2_connections_closed_total{reason="rapid-reset"}',
      );

      // The edge keeps serving, HTTP/2 and HTTP/1.1 alike.
      const answered = instance.answered;
      const again = await h2Get(authority, options);
      assert.equal(again.status, 200);
      assert.equal(again.body, 'late answer');
      const plain = await get(edge.port, '/after', { host: 'echo.mesh' });
      assert.equal(plain.status, 200);
      assert.equal(instance.answered, answered + 2);
    });
  }

  it("aborts the instance's request when the client resets its stream", async () => {
    const session = http2.connect(`http://127.0.0.1:${edge.port}`);
    session.on('error', () => undefined);
    try {
      const started = instance.started;
      const abandoned = instance.abandoned;
      const answered = instance.answered;
      const stream = session.request({ ':path': '/reset-while-waiting', ':authority': 'echo.mesh' });
      stream.on('error', () => undefined);
      await until('the request to reach the instance', () => instance.started === started + 1);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await until('the edge to drop the request', () => instance.abandoned === abandoned + 1 || instance.answered > answered);
      assert.equal(instance.abandoned, abandoned + 1);
    } finally {
      session.destroy();
    }
  });

  it('lets a client cancel streams at an ordinary pace on a connection it keeps', async () => {
    const session = http2.connect(`http://127.0.0.1:${edge.port}`);
    session.on('error', () => undefined);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    try {
      // 50 cancelled requests (under the limit of 200 a second), then one answered.
      for (let i = 0; i < 50; i++) {
        const stream = session.request({ ':path': `/cancel/${i}`, ':authority': 'echo.mesh' });
        stream.on('error', () => undefined);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
      const stream = session.request({ ':path': '/kept', ':authority': 'echo.mesh' });
      const status = await new Promise<number>((resolve, reject) => {
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.on('error', reject);
      });
      stream.resume();
      assert.equal(status, 200);
      assert.equal(goaway, false);
      assert.equal(session.closed || session.destroyed, false);
    } finally {
      session.destroy();
    }
  });
});
