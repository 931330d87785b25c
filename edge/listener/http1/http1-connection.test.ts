// The fast HTTP/1.1 path on its own: a plain listener with the fast engine
// in front of a test handler, driven over raw TCP.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectionTracker } from '../connection-tracker';
import { createHttpListener, type HttpListenerOptions } from '../http-listener';
import { DEFAULT_LIMITS, type ListenerLimits } from '../limits';
import { EdgeMetrics } from '../../observability/edge-metrics';
import type { ClientRequest, ClientResponse, ResponseWriter } from '../../request/client-types';
import { rawExchange, slowloris } from '../../testing/raw-socket';
import { FastRequest } from './fast-request';
import { FastResponse } from './fast-response';

const STREAM_BYTES = 4 * 1024 * 1024;

// A raw client connection that keeps what it received.
class RawClient {
  data = '';
  closed = false;
  private readonly socket: net.Socket;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d) => {
      this.data += d.toString('latin1');
      this.wake();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // Resolves once `done` holds; fails after a generous deadline.
  async until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.data.slice(0, 500))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

// A plain listener on the fast path, as the edge makes it.
function fastListener(options: Pick<HttpListenerOptions, 'limits' | 'onRequest' | 'onUpgrade'>): http.Server {
  return createHttpListener({ ...options, connections: new ConnectionTracker(), edgeName: 'test-edge', metrics: new EdgeMetrics(), h2c: true, http1: 'fast' });
}

function readAll(req: ClientRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ClientResponse, status: number, body: string, headers: Record<string, string | number> = {}): void {
  const w = res as unknown as ResponseWriter;
  w.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
  w.end(body);
}

describe('fast HTTP/1.1 connection', () => {
  let server: http.Server;
  let port: number;
  const closedResponses: string[] = [];
  const upgrades: { url: string; head: string }[] = [];

  async function handle(req: ClientRequest, res: ClientResponse): Promise<void> {
    assert.ok(req instanceof FastRequest, 'served by the fast path');
    assert.ok(res instanceof FastResponse);
    const url = req.url ?? '/';
    res.on('close', () => {
      if (!res.writableEnded) closedResponses.push(url);
    });
    if (url.startsWith('/slow/')) {
      await new Promise((resolve) => setTimeout(resolve, Number(url.slice(6))));
      return reply(res, 200, `answer ${url}\n`);
    }
    if (url === '/echo') {
      const body = await readAll(req);
      return reply(res, 200, JSON.stringify({ method: req.method, body: body.toString('latin1'), trailers: req.trailers, version: req.httpVersion }));
    }
    if (url === '/upload') {
      // A slow consumer: reads 64 KiB, pauses, reads on.
      const hash = createHash('sha256');
      let n = 0;
      await new Promise<void>((resolve, reject) => {
        req.on('data', (c: Buffer) => {
          hash.update(c);
          n += c.length;
          req.pause();
          setTimeout(() => req.resume(), 1);
        });
        req.on('end', resolve);
        req.on('error', reject);
      });
      return reply(res, 200, `${n} ${hash.digest('hex')}`);
    }
    if (url === '/download') {
      const w = res as unknown as ResponseWriter;
      w.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 'd');
      let sent = 0;
      let waited = 0;
      while (sent < STREAM_BYTES) {
        sent += chunk.length;
        if (!w.write(chunk)) {
          waited++;
          await new Promise<void>((resolve) => w.once('drain', resolve));
        }
      }
      w.addTrailers({ 'x-waited-for-drain': String(waited) });
      w.end();
      return;
    }
    if (url === '/hang') {
      const w = res as unknown as ResponseWriter;
      w.writeHead(200, { 'content-type': 'text/plain' });
      w.write('partial');
      return;
    }
    reply(res, 200, `answer ${url}\n`);
  }

  before(async () => {
    const limits: ListenerLimits = { ...DEFAULT_LIMITS, maxHeaderBytes: 2 * 1024, headersTimeoutMs: 400, requestTimeoutMs: 3_000, keepAliveTimeoutMs: 1_000 };
    server = fastListener({
      limits,
      onRequest: (req, res) => void handle(req, res).catch((err) => (res as unknown as ResponseWriter).end(String(err))),
      onUpgrade: (req, socket, head) => {
        upgrades.push({ url: req.url ?? '', head: head.toString('latin1') });
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
        socket.write(head);
        socket.pipe(socket);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers three pipelined requests in the order they came, the slowest first', async () => {
    const c = new RawClient(port);
    c.write('GET /slow/200 HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await c.until(() => c.closed, 'the connection to close');
    const answers = [...c.data.matchAll(/answer (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(answers, ['/slow/200', '/two', '/three']);
    assert.equal(c.data.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
  });

  it('reads a chunked request body with its trailers', async () => {
    const r = await rawExchange(port, 'POST /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Check: 5\r\n\r\n');
    const body = JSON.parse(r.data.slice(r.data.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body, { method: 'POST', body: 'abcde', trailers: { 'x-check': '5' }, version: '1.1' });
  });

  it('answers Expect: 100-continue with 100 before the request is read', async () => {
    const c = new RawClient(port);
    c.write('POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n');
    await c.until(() => c.data.includes('100 Continue'), 'the 100');
    assert.equal(c.data, 'HTTP/1.1 100 Continue\r\n\r\n');
    c.write('body');
    await c.until(() => c.closed, 'the answer');
    assert.match(c.data, /\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*"body":"body"/);
  });

  it('answers HEAD with the head only', async () => {
    const r = await rawExchange(port, 'HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(r.data, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.data, /content-length: 10\r\n/);
    assert.ok(r.data.endsWith('\r\n\r\n'), 'no body');
  });

  it('answers an HTTP/1.0 client and closes, with the body until the close when its length is unknown', async () => {
    const r = await rawExchange(port, 'GET /download HTTP/1.0\r\n\r\n', 15_000);
    assert.ok(r.closed);
    assert.match(r.data, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.data, /\r\nConnection: close\r\n/);
    assert.doesNotMatch(r.data, /Transfer-Encoding/i);
    assert.equal(r.data.length - r.data.indexOf('\r\n\r\n') - 4, STREAM_BYTES);
  });

  it('closes after a response when the client sent Connection: close', async () => {
    const r = await rawExchange(port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.ok(r.closed);
    assert.match(r.data, /\r\nConnection: close\r\n/);
  });

  it('keeps a connection open between requests, then closes it once idle past the keep-alive timeout', async () => {
    const c = new RawClient(port);
    c.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(() => c.data.includes('answer /one'), 'the first answer');
    assert.match(c.data, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1\r\n/);
    c.write('GET /two HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(() => c.data.includes('answer /two'), 'the second answer on the same connection');
    await c.until(() => c.closed, 'the idle connection to be closed by the server');
  });

  it('keeps a connection whose answer takes longer than the keep-alive timeout', async () => {
    const r = await rawExchange(port, 'GET /slow/1500 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 10_000);
    assert.match(r.data, /answer \/slow\/1500/);
  });

  it('answers 408 to a slowloris client and closes it', async () => {
    const r = await slowloris(port, 50, 5_000);
    assert.ok(r.closed);
    assert.match(r.data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('answers 431 to headers over the limit', async () => {
    const r = await rawExchange(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(3_000)}\r\n\r\n`);
    assert.match(r.data, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.ok(r.closed);
  });

  it('tells the pipeline when the client closes in the middle of a response', async () => {
    const c = new RawClient(port);
    c.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(() => c.data.includes('partial'), 'the start of the answer');
    c.destroy();
    const deadline = Date.now() + 5_000;
    while (!closedResponses.includes('/hang') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(closedResponses.includes('/hang'), "the response's close event");
  });

  it('streams a long upload to a slow reader and a long download to a slow client', async () => {
    const body = Buffer.alloc(STREAM_BYTES, 'u');
    const up = new RawClient(port);
    up.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    up.write(body);
    await up.until(() => up.closed, 'the upload answer', 30_000);
    assert.match(up.data, new RegExp(`${STREAM_BYTES} ${createHash('sha256').update(body).digest('hex')}$`));

    const down = new RawClient(port);
    down.pause();
    down.write('GET /download HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    down.resume();
    await down.until(() => down.closed, 'the download', 30_000);
    const waited = /x-waited-for-drain: (\d+)\r\n/.exec(down.data);
    assert.ok(waited !== null && Number(waited[1]) > 0, 'the writer waited for drain');
    // Chunked: the body's bytes are the chunks' data.
    const payload = down.data.slice(down.data.indexOf('\r\n\r\n') + 4);
    assert.equal(payload.replace(/(^|\r\n)[0-9a-f]+\r\n/g, '').replace(/x-waited-for-drain: \d+\r\n/, '').replace(/\r\n/g, '').length, STREAM_BYTES);
  });

  it('answers 400 to a malformed second request on a keep-alive connection after answering the first', async () => {
    const c = new RawClient(port);
    c.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(() => c.data.includes('answer /first'), 'the first answer');
    c.write('GET /second HTTP/1.1\r\nHost a\r\n\r\n');
    await c.until(() => c.closed, 'the connection to close');
    assert.match(c.data, /answer \/first\n/);
    assert.match(c.data, /\nHTTP\/1\.1 400 Bad Request\r\n[\s\S]*bad request: HPE_INVALID_HEADER_TOKEN\n$/);
  });

  it('hands a protocol upgrade after a keep-alive request to node:http, with the bytes sent after it', async () => {
    const c = new RawClient(port);
    c.write('GET /before HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(() => c.data.includes('answer /before'), 'the first answer');
    c.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\nearly bytes');
    await c.until(() => c.data.includes('early bytes'), 'the upgrade and the echo');
    c.write(' and more');
    await c.until(() => c.data.includes(' and more'), 'the echo after the upgrade');
    assert.match(c.data, /HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.deepEqual(upgrades.at(-1), { url: '/ws', head: 'early bytes' });
    c.destroy();
  });

  it('waits for the answer in progress before handing a pipelined upgrade over', async () => {
    const c = new RawClient(port);
    c.write('GET /slow/200 HTTP/1.1\r\nHost: a\r\n\r\nGET /ws2 HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await c.until(() => c.data.includes('101 Switching'), 'the upgrade');
    assert.ok(c.data.indexOf('answer /slow/200') < c.data.indexOf('101 Switching'), 'the answer first, then the upgrade');
    c.destroy();
  });
});

describe('fast HTTP/1.1 listener closing', () => {
  it('closes its idle keep-alive connections on server.close(), as node:http does, and all of them on closeAllConnections()', async () => {
    const server = fastListener({
      limits: DEFAULT_LIMITS,
      onRequest: (_req, res) => {
        if ((_req.url ?? '') === '/hang') return;
        reply(res, 200, 'ok');
      },
      onUpgrade: () => undefined,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const idle = new RawClient(port);
    idle.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.until(() => idle.data.endsWith('ok'), 'the answer');
    const busy = new RawClient(port);
    busy.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = new Promise((resolve) => server.close(resolve));
    await idle.until(() => idle.closed, 'the idle connection to close');
    assert.equal(busy.closed, false, 'the busy one stays');
    server.closeAllConnections();
    await busy.until(() => busy.closed, 'the busy connection to close');
    await closed;
  });
});

describe('fast HTTP/1.1 pipelining flood', () => {
  it('stops reading a client that pipelines far more than it is answered', async () => {
    let served = 0;
    const server = fastListener({
      limits: DEFAULT_LIMITS,
      onRequest: (req, res) => {
        served++;
        if (req.url === '/first') setTimeout(() => reply(res, 200, 'first'), 500);
        else reply(res, 200, 'ok');
      },
      onUpgrade: () => undefined,
    });
    const sockets: net.Socket[] = [];
    server.on('connection', (s: net.Socket) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise((resolve) => client.once('connect', resolve));
    client.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
    const flood = Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(700_000));
    client.write(flood);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(served, 1, 'the pipelined requests wait for the first answer');
    // One read (64 KiB) at most past the first request.
    assert.ok(sockets[0].bytesRead <= 128 * 1024, `read ${sockets[0].bytesRead} bytes of ${flood.length} while the first answer was pending`);
    client.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('fast HTTP/1.1 response head', () => {
  it('writes header values byte for byte (latin1, as node:http) with a utf8 string body', async () => {
    const server = fastListener({
      limits: DEFAULT_LIMITS,
      onRequest: (_req, res) => {
        const w = res as unknown as ResponseWriter;
        w.writeHead(200, { 'x-value': 'caf\u00e9', 'content-type': 'text/plain; charset=utf-8', 'content-length': 3 });
        w.end('h\u00e9');
      },
      onUpgrade: () => undefined,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const r = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      const bytes = Buffer.from(r.data, 'latin1');
      assert.ok(bytes.includes(Buffer.from([0x78, 0x2d, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x3a, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a])), 'x-value: caf\\xe9, one byte');
      assert.ok(bytes.subarray(bytes.length - 3).equals(Buffer.from('h\u00e9', 'utf8')), 'the body in utf8');
    } finally {
      server.close();
    }
  });
});
