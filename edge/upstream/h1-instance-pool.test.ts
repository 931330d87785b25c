// The fast HTTP/1.1 instance pool against real local servers (node:http and
// raw TCP on 127.0.0.1): bodies both ways with backpressure, keep-alive and
// its limits, queueing, aborts, timeouts and the error codes the pipeline
// classifies. Byte-level parity with undici is h1-instance-pool-differential.test.ts.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { H1InstancePool } from './h1-instance-pool';
import { createInstancePool } from './instance-pool';
import { classifyUpstreamError } from './upstream-error';
import { observe, RecordingInstance } from './testing/recording-instance';

const GET = (path = '/'): Dispatcher.DispatchOptions => ({ method: 'GET', path, headers: ['host', 'svc.mesh'], body: null });

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function close(server: net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function pool(port: number, connections = 8, keepAliveMs?: number): H1InstancePool {
  return new H1InstancePool('127.0.0.1', port, { connectTimeoutMs: 2_000, connections, keepAliveMs });
}

test('GET and POST to node:http, sequential requests on one keep-alive connection', async () => {
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`${req.method} ${req.url} ${req.headers.host} ${Buffer.concat(chunks).toString()}`));
  });
  server.on('connection', () => connections++);
  const p = pool(await listen(server));
  try {
    const a = await observe(p, GET('/a'));
    const b = await observe(p, { method: 'POST', path: '/b', headers: ['host', 'svc.mesh'], body: Buffer.from('payload') });
    const c = await observe(p, { method: 'GET', path: '/c', headers: [], body: null });
    assert.equal(a.body.toString(), 'GET /a svc.mesh ');
    assert.equal(b.body.toString(), 'POST /b svc.mesh payload');
    assert.equal(c.body.toString(), `GET /c 127.0.0.1:${(server.address() as net.AddressInfo).port} `);
    assert.equal(a.heads[0].status, 200);
    assert.equal(connections, 1);
  } finally {
    await p.close();
    await close(server);
  }
});

test('chunked both ways: a stream body of unknown length, a response written in parts', async () => {
  const server = http.createServer((req, res) => {
    let n = 0;
    const te = req.headers['transfer-encoding'];
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      res.write(`te=${te} `);
      res.write(`bytes=${n}`);
      res.end();
    });
  });
  const p = pool(await listen(server));
  try {
    const body = Readable.from((function* () {
      for (let i = 0; i < 100; i++) yield Buffer.alloc(1000, i);
    })());
    const seen = await observe(p, { method: 'POST', path: '/', headers: ['host', 'svc.mesh'], body });
    assert.equal(seen.body.toString(), 'te=chunked bytes=100000');
    assert.equal(seen.heads[0].headers['transfer-encoding'], 'chunked');
  } finally {
    await p.close();
    await close(server);
  }
});

test('a big response to a slow reader: paused, no data while paused, every byte in order', async () => {
  const size = 8 << 20;
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) payload.writeUInt32BE(i, i);
  const server = http.createServer((_req, res) => res.end(payload));
  const p = pool(await listen(server));
  try {
    const chunks: Buffer[] = [];
    let whilePaused = 0;
    let pauses = 0;
    const result = await new Promise<Error | null>((resolve) => {
      p.dispatch(GET(), {
        onResponseData(c: Dispatcher.DispatchController, chunk: Buffer) {
          if (c.paused) whilePaused++;
          chunks.push(chunk);
          if (chunks.length % 3 === 0) {
            c.pause();
            pauses++;
            setTimeout(() => c.resume(), 1);
          }
        },
        onResponseEnd: () => resolve(null),
        onResponseError: (_c: unknown, err: Error) => resolve(err),
      });
    });
    assert.equal(result, null);
    assert.equal(whilePaused, 0);
    assert.ok(pauses > 3);
    assert.ok(Buffer.concat(chunks).equals(payload));
  } finally {
    await p.close();
    await close(server);
  }
});

test('a paused handler gets the rest of a buffer, then the end, only after resume', async () => {
  const instance = await new RecordingInstance(() => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\nx-t: 1\r\n\r\n').start();
  const p = pool(instance.port);
  try {
    const events: string[] = [];
    let controller: Dispatcher.DispatchController | null = null;
    const done = new Promise<void>((resolve) => {
      p.dispatch(GET(), {
        onResponseData(c: Dispatcher.DispatchController, chunk: Buffer) {
          events.push(`data ${chunk.toString()}${c.paused ? ' (paused!)' : ''}`);
          c.pause();
          controller = c;
        },
        onResponseEnd(_c: unknown, trailers: Record<string, unknown>) {
          events.push(`end ${JSON.stringify(trailers)}`);
          resolve();
        },
        onResponseError: (_c: unknown, err: Error) => events.push(`error ${err.message}`),
      });
    });
    for (let i = 0; i < 10 && !events.some((e) => e.startsWith('end')); i++) {
      await until(() => controller !== null, 'data');
      await new Promise((resolve) => setTimeout(resolve, 20));
      const c = controller!;
      controller = null;
      c.resume();
    }
    await done;
    assert.deepEqual(events, ['data a', 'data b', 'data c', 'end {"x-t":"1"}']);
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('a big stream body to a slow reader is sent whole, with backpressure', async () => {
  let received = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      received += c.length;
      req.pause();
      setTimeout(() => req.resume(), 1);
    });
    req.on('end', () => res.end(String(received)));
  });
  const p = pool(await listen(server));
  try {
    const total = 4 << 20;
    let produced = 0;
    const body = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += 65536;
        this.push(Buffer.alloc(65536, 1));
      },
    });
    const seen = await observe(p, { method: 'PUT', path: '/', headers: ['host', 'svc.mesh', 'content-length', String(total)], body });
    assert.equal(seen.error, null);
    assert.equal(seen.body.toString(), String(total));
  } finally {
    await p.close();
    await close(server);
  }
});

test('requests beyond `connections` wait, in order, and all complete', async () => {
  const held: (() => void)[] = [];
  const sockets: net.Socket[] = [];
  // Answer held requests on demand.
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      while (buf.includes('\r\n\r\n')) {
        const head = buf.slice(0, buf.indexOf('\r\n\r\n'));
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        const path = head.split(' ')[1];
        held.push(() => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`));
      }
    });
  });
  const p = pool(await listen(server), 2);
  try {
    const results = [0, 1, 2, 3, 4].map((i) => observe(p, GET(`/${i}`)));
    await until(() => held.length === 2, 'two requests at the instance');
    assert.deepEqual(p.stats, { connections: 2, idle: 0, queued: 3 });
    for (let answered = 0; answered < 5; answered++) {
      await until(() => held.length > 0, 'a request');
      held.shift()!();
    }
    const seen = await Promise.all(results);
    assert.deepEqual(seen.map((s) => s.body.toString()), ['/0', '/1', '/2', '/3', '/4']);
    assert.equal(sockets.length, 2);
    assert.equal(p.stats.queued, 0);
  } finally {
    await p.destroy();
    await close(server);
  }
});

test('an abort while queued takes the request out: error once, never sent', async () => {
  const instance = await new RecordingInstance((r) => (r.url === '/first' ? { send: ['HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx'], delayMs: 200 } : 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\ny')).start();
  const p = pool(instance.port, 1);
  try {
    const first = observe(p, GET('/first'));
    const errors: Error[] = [];
    let ctrl: Dispatcher.DispatchController | null = null;
    p.dispatch(GET('/queued'), {
      onRequestStart: (c: Dispatcher.DispatchController) => (ctrl = c),
      onResponseError: (_c: unknown, err: Error) => errors.push(err),
    });
    assert.equal(p.stats.queued, 1);
    ctrl!.abort(new Error('no longer wanted'));
    assert.deepEqual(errors.map((e) => e.message), ['no longer wanted']);
    assert.equal(p.stats.queued, 0);
    assert.equal((await first).body.toString(), 'x');
    const after = await observe(p, GET('/after'));
    assert.equal(after.body.toString(), 'y');
    assert.deepEqual(instance.requests.map((r) => r.url), ['/first', '/after']);
    assert.equal(errors.length, 1);
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('an abort inside onRequestStart: the handler hears of it once, nothing is sent', async () => {
  const instance = await new RecordingInstance(() => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n').start();
  const p = pool(instance.port);
  try {
    const errors: string[] = [];
    p.dispatch(GET(), {
      onRequestStart: (c: Dispatcher.DispatchController) => c.abort(new Error('superseded')),
      onResponseStart: () => errors.push('headers?'),
      onResponseError: (_c: unknown, err: Error) => errors.push(err.message),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(errors, ['superseded']);
    assert.equal(instance.requests.length, 0);
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('an abort mid-body drops the connection and reports once', async () => {
  let serverClosed = false;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000000' });
    res.write(Buffer.alloc(1000, 'a'));
    res.on('close', () => (serverClosed = true));
  });
  const p = pool(await listen(server));
  try {
    const events: string[] = [];
    p.dispatch(GET(), {
      onResponseData(c: Dispatcher.DispatchController) {
        events.push('data');
        c.abort(new Error('client gone'));
      },
      onResponseEnd: () => events.push('end'),
      onResponseError: (_c: unknown, err: Error) => events.push(`error ${err.message}`),
    });
    await until(() => serverClosed, 'the instance to see the connection close');
    await until(() => p.stats.connections === 0, 'the pool to drop the connection');
    assert.deepEqual(events.slice(0, 2), ['data', 'error client gone']);
    assert.equal(events.filter((e) => e.startsWith('error') || e === 'end').length, 1);
  } finally {
    await p.destroy();
    await close(server);
  }
});

test('a keep-alive connection the instance closed while idle: the next request takes a new one', async () => {
  const instance = await new RecordingInstance((r) => `HTTP/1.1 200 OK\r\ncontent-length: ${r.url.length}\r\n\r\n${r.url}`).start();
  const p = pool(instance.port);
  try {
    assert.equal((await observe(p, GET('/one'))).body.toString(), '/one');
    instance.closeAll();
    await until(() => p.stats.connections === 0, 'the pool to see the close');
    assert.equal((await observe(p, GET('/two'))).body.toString(), '/two');
    assert.equal(instance.connections, 2);
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('a reused connection closed before any answer: UND_ERR_SOCKET, a reset the pipeline may retry', async () => {
  const instance = await new RecordingInstance((_r, i) => (i === 0 ? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n' : 'close')).start();
  const p = pool(instance.port);
  try {
    await observe(p, GET('/one'));
    const seen = await observe(p, GET('/two'));
    assert.equal((seen.error as { code?: string }).code, 'UND_ERR_SOCKET');
    assert.equal(classifyUpstreamError(seen.error), 'reset');
    assert.equal(instance.connections, 1);
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('bytes nobody asked for on an idle connection: the connection is dropped, the next request is answered right', async () => {
  const sockets: net.Socket[] = [];
  const instance = await new RecordingInstance((r) => `HTTP/1.1 200 OK\r\ncontent-length: ${r.url.length}\r\n\r\n${r.url}`).start();
  const server = net.createServer((s) => {
    sockets.push(s);
    const upstream = net.connect(instance.port, '127.0.0.1');
    s.pipe(upstream).pipe(s);
    s.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  const p = pool(await listen(server));
  try {
    assert.equal((await observe(p, GET('/one'))).body.toString(), '/one');
    sockets[0].write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n/stray');
    await until(() => p.stats.connections === 0, 'the pool to drop the connection');
    assert.equal((await observe(p, GET('/two'))).body.toString(), '/two');
  } finally {
    await p.destroy();
    await close(server);
    await instance.stop();
  }
});

test('connect refused: ECONNREFUSED, a connect failure', async () => {
  const server = net.createServer();
  const port = await listen(server);
  await close(server);
  const p = pool(port);
  const seen = await observe(p, GET());
  assert.equal((seen.error as { code?: string }).code, 'ECONNREFUSED');
  assert.equal(classifyUpstreamError(seen.error), 'connect-failure');
  await p.destroy();
});

test('connect timeout: UND_ERR_CONNECT_TIMEOUT, a connect failure', async () => {
  const server = net.createServer();
  const port = await listen(server);
  mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  try {
    const p = new H1InstancePool('127.0.0.1', port, { connectTimeoutMs: 1_000, connections: 1 });
    const seen = observe(p, GET());
    // Before the connection can be made: the timer runs out first.
    mock.timers.tick(1_000);
    mock.timers.reset();
    const s = await seen;
    assert.equal((s.error as { code?: string }).code, 'UND_ERR_CONNECT_TIMEOUT');
    assert.equal(classifyUpstreamError(s.error), 'connect-failure');
    await p.destroy();
  } finally {
    mock.timers.reset();
    await close(server);
  }
});

test('no response headers by headersTimeout: UND_ERR_HEADERS_TIMEOUT; a stalled body by bodyTimeout: UND_ERR_BODY_TIMEOUT', async () => {
  const instance = await new RecordingInstance((r) => (r.url === '/hang' ? 'hang' : 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')).start();
  const p = pool(instance.port);
  try {
    const h = await observe(p, { ...GET('/hang'), headersTimeout: 100 });
    assert.equal((h.error as { code?: string }).code, 'UND_ERR_HEADERS_TIMEOUT');
    assert.equal(classifyUpstreamError(h.error), 'timeout');
    const b = await observe(p, { ...GET('/stall'), bodyTimeout: 100 });
    assert.equal(b.heads[0].status, 200);
    assert.equal(b.body.toString(), 'abc');
    assert.equal((b.error as { code?: string }).code, 'UND_ERR_BODY_TIMEOUT');
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('an idle connection is closed after keepAliveMs', async () => {
  let closed = false;
  const server = http.createServer((_req, res) => res.end('x'));
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: net.Socket) => s.on('close', () => (closed = true)));
  const p = pool(await listen(server), 8, 600);
  try {
    await observe(p, GET());
    assert.equal(p.stats.idle, 1);
    await until(() => closed, 'the idle connection to close');
    assert.equal(p.stats.connections, 0);
  } finally {
    await p.destroy();
    await close(server);
  }
});

test('close() lets running and waiting requests finish and refuses new ones; destroy() fails them', async () => {
  const instance = await new RecordingInstance(() => ({ send: ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'], delayMs: 50 })).start();
  const p = pool(instance.port, 1);
  try {
    const running = observe(p, GET('/1'));
    const waiting = observe(p, GET('/2'));
    const closing = p.close();
    const refused = await observe(p, GET('/3'));
    assert.equal((refused.error as { code?: string }).code, 'UND_ERR_CLOSED');
    assert.equal((await running).body.toString(), 'ok');
    assert.equal((await waiting).body.toString(), 'ok');
    await closing;
    assert.equal(p.stats.connections, 0);
  } finally {
    await instance.stop();
  }
  const hanging = await new RecordingInstance(() => 'hang').start();
  const q = pool(hanging.port, 1);
  const a = observe(q, GET('/a'));
  const b = observe(q, GET('/b'));
  await until(() => hanging.requests.length === 1, 'the first request at the instance');
  await q.destroy();
  assert.equal(((await a).error as { code?: string }).code, 'UND_ERR_DESTROYED');
  assert.equal(((await b).error as { code?: string }).code, 'UND_ERR_DESTROYED');
  await hanging.stop();
});

test("an instance that answers before the client's streamed body is done: the client still gets the whole answer", async () => {
  const size = 16 << 20;
  // The instance refuses at the first bytes, without reading the body, with
  // an answer longer than the sockets' buffers hold.
  const instance = net.createServer((s) => {
    s.once('data', () => {
      s.write(`HTTP/1.1 413 Payload Too Large\r\ncontent-length: ${size}\r\nconnection: close\r\n\r\n`);
      s.end(Buffer.alloc(size, 'b'));
    });
    s.on('error', () => undefined);
  });
  const p = pool(await listen(instance));
  // A front server passing its request on as the body, as the pipeline does.
  const front = http.createServer((req, res) => {
    p.dispatch(
      { method: 'POST', path: '/', headers: ['host', 'svc.mesh', 'content-length', req.headers['content-length']!], body: req },
      {
        onResponseStart: (_c: unknown, status: number) => res.writeHead(status),
        onResponseData: (_c: unknown, chunk: Buffer) => void res.write(chunk),
        onResponseEnd: () => res.end(),
        onResponseError: () => res.destroy(),
      },
    );
  });
  try {
    const port = await listen(front);
    const answer = await new Promise<string>((resolve, reject) => {
      const creq = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': String(1 << 20) } }, (cres) => {
        let n = 0;
        // A slow client: most of the answer waits in the front's buffers
        // when the instance's response ends.
        cres.pause();
        setTimeout(() => cres.resume(), 300);
        cres.on('data', (d: Buffer) => (n += d.length));
        cres.on('end', () => resolve(`${cres.statusCode} ${n}`));
        cres.on('error', reject);
      });
      creq.on('error', reject);
      // Part of the body, the rest never: the answer must come anyway.
      creq.write(Buffer.alloc(64 * 1024));
    });
    assert.equal(answer, `413 ${size}`);
  } finally {
    await p.destroy();
    await close(front);
    await close(instance);
  }
});

test('a response that arrives one byte at a time: head, chunks and trailers across every read boundary', async () => {
  const response = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: 1\r\nX-A: 2\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 42\r\n\r\n';
  const instance = await new RecordingInstance((r) => (r.url === '/slow' ? { send: [response], dribble: true } : 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext')).start();
  const p = pool(instance.port);
  try {
    const seen = await observe(p, GET('/slow'));
    assert.equal(seen.error, null);
    assert.deepEqual(seen.heads.map((h) => [h.status, h.headers['x-a']]), [[200, ['1', '2']]]);
    assert.equal(seen.body.toString(), 'abcde');
    assert.deepEqual(seen.trailers, { 'x-sum': '42' });
    // The connection is whole for the next request.
    assert.equal((await observe(p, GET('/next'))).body.toString(), 'next');
    assert.equal(instance.connections, 1);
  } finally {
    await p.destroy();
    await instance.stop();
  }
});

test('an instance on an IPv6 address gets [addr]:port as Host, as undici sends it', async () => {
  const instance = await new RecordingInstance(() => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nv6', '::1').start();
  try {
    for (const engine of ['undici', 'fast'] as const) {
      const p = createInstancePool('::1', instance.port, { connectTimeoutMs: 2_000, connections: 1, http2: false, engine });
      assert.equal((await observe(p, { method: 'GET', path: '/', headers: [], body: null })).body.toString(), 'v6');
      await p.destroy();
    }
    const [undici, fast] = instance.requests.map((r) => r.raw.toString());
    assert.equal(fast, undici);
    assert.ok(fast.startsWith(`GET / HTTP/1.1\r\nhost: [::1]:${instance.port}\r\n`), fast);
  } finally {
    await instance.stop();
  }
});
