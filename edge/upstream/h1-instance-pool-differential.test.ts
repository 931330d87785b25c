// The fast HTTP/1.1 pool against undici's, as createInstancePool configures
// each: the same corpus of dispatches goes to one recording instance through
// both, and the test compares what the instance saw (every byte of every
// request, and how many connections) and what the handler saw (status,
// headers, body, trailers, and the kind of error as upstream-error.ts
// classifies it).
//
// One thing is normalized in the request bytes: the recording instance's
// port (each run has its own instance), in the default Host. Otherwise the
// fast pool writes what undici writes, in the same order (host first, then
// connection, the headers as given, the framing last). Dispatches of a case
// go one after the other with a few milliseconds between them: undici hands
// a connection back only on a setImmediate after the response, so a request
// sent at once after an end would get a second connection from it (the
// fast pool reuses the connection at once); the pause lets the connection
// counts compare the reuse rules rather than that timing. Where the handler's view differs the
// case says how and why (`fastSees`), and the test checks the fast pool
// shows exactly that; error codes are compared only where both name the
// same failure (a malformed response is HPE_* from either parser, but
// undici reports some as a length mismatch of its own: same kind, 'reset').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { createInstancePool, type Http1PoolEngine } from './instance-pool';
import { classifyUpstreamError } from './upstream-error';
import { observe, RecordingInstance, type Observed, type Reply } from './testing/recording-instance';

interface Case {
  name: string;
  // The dispatches, one after the other.
  requests: (() => Dispatcher.DispatchOptions)[];
  reply: (index: number) => Reply;
  // How the fast pool's handler view differs from undici's, and why.
  fastSees?: { why: string; map: (undici: Seen) => Seen };
  // Compare error codes too (both report the same failure the same way).
  sameCode?: boolean;
  // Why the connection counts differ, when they do.
  connectionsDiffer?: string;
}

// The handler's view, comparable.
interface Seen {
  started: boolean;
  heads: { status: number; headers: Record<string, unknown> }[];
  body: string;
  trailers: Record<string, unknown> | null;
  error: { kind: string; code: string | undefined } | null;
  settlements: number;
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const get = (path = '/', headers: string[] = ['host', 'svc.mesh']): (() => Dispatcher.DispatchOptions) => () => ({ method: 'GET', path, headers, body: null });
const streamOf = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

const CASES: Case[] = [
  {
    name: 'GET with duplicate and mixed-case headers, the Host given',
    requests: [() => ({ method: 'GET', path: '/a/b?c=1&d', headers: ['host', 'svc.mesh', 'X-Dup', '1', 'x-dup', '2', 'Accept', '*/*', 'x-forwarded-for', '10.0.0.1'], body: null })],
    reply: () => ok('hello', 'Set-Cookie: a=1\r\nX-Multi: 1\r\nx-multi: 2\r\n'),
  },
  {
    name: 'GET with no Host: the instance address',
    requests: [() => ({ method: 'GET', path: '/', headers: ['x-a', 'b'], body: null })],
    reply: () => ok('x'),
  },
  {
    name: 'POST with a Buffer body',
    requests: [() => ({ method: 'POST', path: '/p', headers: ['host', 'svc.mesh', 'content-type', 'text/plain'], body: Buffer.from('hello world') })],
    reply: () => ok('created'),
  },
  {
    name: 'POST with no body: content-length: 0',
    requests: [() => ({ method: 'POST', path: '/p', headers: ['host', 'svc.mesh'], body: null })],
    reply: () => ok(''),
  },
  {
    name: 'PUT with an empty Buffer',
    requests: [() => ({ method: 'PUT', path: '/p', headers: ['host', 'svc.mesh'], body: Buffer.alloc(0) })],
    reply: () => ok(''),
  },
  {
    name: 'PUT with a stream and its Content-Length',
    requests: [() => ({ method: 'PUT', path: '/p', headers: ['host', 'svc.mesh', 'content-length', '7'], body: streamOf('abc', 'defg') })],
    reply: () => ok('ok'),
  },
  {
    name: 'POST with a stream of unknown length: chunked',
    requests: [() => ({ method: 'POST', path: '/p', headers: ['host', 'svc.mesh'], body: streamOf('one', 'two', 'three') })],
    reply: () => ok('ok'),
  },
  {
    name: 'POST with an empty stream',
    requests: [() => ({ method: 'POST', path: '/p', headers: ['host', 'svc.mesh'], body: streamOf() })],
    reply: () => ok('ok'),
  },
  {
    name: 'a 1 MiB Buffer body',
    requests: [() => ({ method: 'POST', path: '/big', headers: ['host', 'svc.mesh'], body: Buffer.alloc(1 << 20, 'z') })],
    reply: () => ok('got it'),
  },
  {
    name: 'DELETE with a body: the connection is not reused',
    requests: [() => ({ method: 'DELETE', path: '/d', headers: ['host', 'svc.mesh'], body: Buffer.from('why') }), get('/after')],
    reply: () => ok('gone'),
  },
  {
    name: 'keep-alive: three GETs on one connection',
    requests: [get('/1'), get('/2'), get('/3')],
    reply: (i) => ok(`r${i}`),
  },
  {
    name: 'HEAD: connection: close, and no body read whatever the length says',
    requests: [() => ({ method: 'HEAD', path: '/h', headers: ['host', 'svc.mesh'], body: null }), get('/after')],
    reply: (i) => (i === 0 ? 'HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n' : ok('after')),
  },
  {
    name: '204 and 304 have no body',
    requests: [get('/204'), get('/304')],
    reply: (i) => (i === 0 ? 'HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n' : 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\ncontent-length: 10\r\n\r\n'),
    fastSees: {
      why: "a 304's Content-Length is the length the representation would have (RFC 9110 8.6): undici counts it as a body that never came and fails the response; Node's parser knows a 304 has no body",
      map: (u) => (u.heads[0]?.status === 304 ? { ...u, error: null, trailers: {} } : u),
    },
  },
  {
    name: 'a chunked response with trailers',
    requests: [get('/t')],
    reply: () => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 42\r\nX-Other: a\r\n\r\n',
  },
  {
    name: 'a body read until the connection closes (HTTP/1.0)',
    requests: [get('/eof'), get('/after')],
    reply: (i) => (i === 0 ? { send: ['HTTP/1.0 200 OK\r\nx-a: 1\r\n\r\n', 'part one, ', 'part two'], close: true } : ok('after')),
  },
  {
    name: 'Connection: close: the next request gets a new connection',
    requests: [get('/1'), get('/2')],
    reply: (i) => ok(`r${i}`, 'connection: close\r\n'),
  },
  {
    name: 'Keep-Alive: timeout=1: not reused (within undici\'s 2 s threshold)',
    requests: [get('/1'), get('/2')],
    reply: (i) => ok(`r${i}`, 'keep-alive: timeout=1\r\n'),
  },
  {
    name: '45 response headers and an 8 KiB value',
    requests: [get('/many')],
    reply: () => ok('x', Array.from({ length: 45 }, (_, i) => `x-h${i}: v${i}\r\n`).join('') + `x-big: ${'b'.repeat(8192)}\r\n`),
  },
  {
    name: 'a 100 Continue before the answer',
    requests: [() => ({ method: 'POST', path: '/c', headers: ['host', 'svc.mesh'], body: Buffer.from('x') })],
    reply: () => 'HTTP/1.1 100 Continue\r\n\r\n' + ok('done'),
    fastSees: {
      why: 'undici fails an unasked 100 Continue as a bad response; the fast pool skips it as node:http does and reads the answer that follows',
      map: (u) => ({ ...u, heads: [{ status: 200, headers: { 'content-length': '4' } }], body: 'done', trailers: {}, error: null }),
    },
  },
  {
    name: 'a 103 Early Hints before the answer',
    requests: [get('/hints')],
    reply: () => 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n' + ok('page'),
    fastSees: {
      why: "undici hands the 103 to onResponseStart as if it were the answer (the pipeline would then write a 103 head to the client and fail on the 200); the fast pool skips informational answers",
      map: (u) => ({ ...u, heads: u.heads.filter((h) => h.status >= 200) }),
    },
  },
  {
    name: 'trailing whitespace in a header value',
    requests: [get('/ws')],
    reply: () => ok('x', 'x-pad: value  \r\n'),
    fastSees: {
      why: "Node's parser drops the trailing whitespace (RFC 9110 5.5: it is not part of the value); undici's keeps it",
      map: (u) => ({ ...u, heads: u.heads.map((h) => ({ ...h, headers: { ...h.headers, 'x-pad': 'value' } })) }),
    },
  },
  {
    name: 'two different Content-Lengths: an error, not a crash',
    requests: [get('/cl')],
    reply: () => 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd',
  },
  {
    name: 'a bad chunk size: an error',
    requests: [get('/chunk')],
    reply: () => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
  },
  {
    name: 'Content-Length with Transfer-Encoding: an error',
    requests: [get('/smuggle')],
    reply: () => 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  {
    name: 'a response head over 16 KiB: an error',
    requests: [get('/huge')],
    reply: () => ok('x', `x-huge: ${'h'.repeat(20_000)}\r\n`),
  },
  {
    name: 'a body shorter than its Content-Length, then close',
    requests: [get('/short')],
    reply: () => ({ send: ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'], close: true }),
    sameCode: true,
  },
  {
    name: 'closed before any answer',
    requests: [get('/close')],
    reply: () => 'close',
    sameCode: true,
  },
  {
    name: 'reset before any answer',
    requests: [get('/reset')],
    reply: () => 'reset',
    sameCode: true,
  },
  {
    name: 'a 101 nobody asked for: an error',
    requests: [get('/upgrade')],
    reply: () => 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
    sameCode: true,
  },
  {
    name: 'a header value with CR LF is refused before sending',
    requests: [() => ({ method: 'GET', path: '/', headers: ['host', 'svc.mesh', 'x-evil', 'a\r\nx-injected: 1'], body: null })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'a header value with NUL is refused',
    requests: [() => ({ method: 'GET', path: '/', headers: ['host', 'svc.mesh', 'x-nul', 'a\u0000b'], body: null })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'a header name that is no token is refused',
    requests: [() => ({ method: 'GET', path: '/', headers: ['host', 'svc.mesh', 'bad name', 'v'], body: null })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'a path with a space is refused',
    requests: [() => ({ method: 'GET', path: '/a b', headers: ['host', 'svc.mesh'], body: null })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'a second Host is refused',
    requests: [() => ({ method: 'GET', path: '/', headers: ['host', 'a.mesh', 'Host', 'b.mesh'], body: null })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'Transfer-Encoding from the caller is refused',
    requests: [() => ({ method: 'POST', path: '/', headers: ['host', 'svc.mesh', 'transfer-encoding', 'chunked'], body: Buffer.from('x') })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'Expect from the caller is refused',
    requests: [() => ({ method: 'POST', path: '/', headers: ['host', 'svc.mesh', 'expect', '100-continue'], body: Buffer.from('x') })],
    reply: () => ok('never'),
    sameCode: true,
  },
  {
    name: 'Connection: close from the caller: sent as connection: close, not reused',
    requests: [() => ({ method: 'GET', path: '/1', headers: ['host', 'svc.mesh', 'Connection', 'close'], body: null }), get('/2')],
    reply: (i) => ok(`r${i}`),
  },
  {
    name: 'headers as an object, with a list value',
    requests: [() => ({ method: 'GET', path: '/o', headers: { host: 'svc.mesh', 'x-list': ['a', 'b'], 'X-One': '1' }, body: null })],
    reply: () => ok('x'),
  },
  {
    name: 'an 8 KiB request header and the headers the pipeline adds',
    requests: [
      () => ({
        method: 'OPTIONS',
        path: '/big?x=%20y',
        headers: ['host', 'svc.mesh', 'cookie', 'c'.repeat(8192), 'x-forwarded-for', '10.1.2.3', 'x-forwarded-proto', 'https', 'forwarded', 'for=10.1.2.3;host="svc.mesh";proto=https', 'x-request-id', 'id-1', 'traceparent', '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01'],
        body: null,
      }),
    ],
    reply: () => ok('opts'),
  },
  {
    name: 'a stream body on GET: chunked, and the connection is not reused',
    requests: [() => ({ method: 'GET', path: '/g', headers: ['host', 'svc.mesh'], body: streamOf('odd') }), get('/after')],
    reply: (i) => ok(`r${i}`),
  },
  {
    name: 'a stream longer than its Content-Length fails',
    requests: [() => ({ method: 'PUT', path: '/p', headers: ['host', 'svc.mesh', 'content-length', '3'], body: streamOf('abcdef') })],
    reply: () => ok('never'),
    sameCode: true,
    connectionsDiffer: 'undici opens a second connection after the failed request though nothing waits for it (its client reconnects on resume); the instance gets no complete request from either',
  },
  {
    name: 'status message and latin1 header bytes pass through',
    requests: [get('/latin1')],
    reply: () => Buffer.from('HTTP/1.1 299 Custom Reason\r\ncontent-length: 2\r\nx-l: caf\xe9\r\n\r\nok', 'latin1'),
  },
];

async function runCase(c: Case, engine: Http1PoolEngine): Promise<{ requests: string[]; connections: number; seen: Seen[] }> {
  const instance = await new RecordingInstance((_r, i) => c.reply(i)).start();
  const pool = createInstancePool('127.0.0.1', instance.port, { connectTimeoutMs: 2_000, connections: 4, http2: false, engine });
  const seen: Seen[] = [];
  try {
    for (const make of c.requests) {
      seen.push(toSeen(await observe(pool, make())));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await pool.destroy();
    await instance.stop();
  }
  const port = `:${instance.port}\r\n`;
  return { requests: instance.requests.map((r) => r.raw.toString('latin1').replace(port, ':<port>\r\n')), connections: instance.connections, seen };
}

function toSeen(o: Observed): Seen {
  return {
    started: o.started,
    heads: o.heads.map((h) => ({ status: h.status, headers: withoutDate(h.headers) })),
    body: o.body.toString('latin1'),
    trailers: o.trailers,
    error: o.error === null ? null : { kind: classifyUpstreamError(o.error), code: (o.error as { code?: string }).code },
    settlements: o.settlements,
  };
}

function withoutDate(h: Record<string, unknown>): Record<string, unknown> {
  const out = { ...h };
  delete out.date;
  return out;
}

function comparable(s: Seen, sameCode: boolean): Seen {
  return { ...s, error: s.error === null ? null : { kind: s.error.kind, code: sameCode ? s.error.code : undefined } };
}

for (const c of CASES) {
  test(`differential: ${c.name}`, async () => {
    const undici = await runCase(c, 'undici');
    const fast = await runCase(c, 'fast');
    assert.deepEqual(fast.requests, undici.requests, 'the instance saw the same bytes');
    if (c.connectionsDiffer === undefined) assert.equal(fast.connections, undici.connections, 'the same number of connections');
    else assert.equal(fast.connections, 1, c.connectionsDiffer);
    for (const s of [...undici.seen, ...fast.seen]) assert.equal(s.settlements, 1, 'exactly one end or error per dispatch');
    const expected = c.fastSees === undefined ? undici.seen : undici.seen.map(c.fastSees.map);
    assert.deepEqual(
      fast.seen.map((s) => comparable(s, c.sameCode ?? false)),
      expected.map((s) => comparable(s, c.sameCode ?? false)),
      c.fastSees?.why,
    );
  });
}

test('differential: connect refused', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const seen: Seen[] = [];
  for (const engine of ['undici', 'fast'] as const) {
    const pool = createInstancePool('127.0.0.1', port, { connectTimeoutMs: 2_000, connections: 4, http2: false, engine });
    seen.push(toSeen(await observe(pool, get()())));
    await pool.destroy();
  }
  // undici starts a request (onRequestStart) once its connection is up, so
  // never here; the fast pool starts it when dispatched (an abort while it
  // waits takes it out of the queue at once).
  assert.equal(seen[0].started, false);
  assert.deepEqual(seen[1], { ...seen[0], started: true });
  assert.deepEqual(seen[1].error, { kind: 'connect-failure', code: 'ECONNREFUSED' });
});

test('differential: a closed pool refuses with UND_ERR_CLOSED (a connect failure: nothing was sent)', async () => {
  const instance = await new RecordingInstance(() => ok('x')).start();
  const seen: Seen[] = [];
  for (const engine of ['undici', 'fast'] as const) {
    const pool = createInstancePool('127.0.0.1', instance.port, { connectTimeoutMs: 2_000, connections: 4, http2: false, engine });
    await observe(pool, get()());
    const closing = pool.close();
    seen.push(toSeen(await observe(pool, get()())));
    await closing;
  }
  await instance.stop();
  assert.deepEqual(seen[1], seen[0]);
  assert.deepEqual(seen[1].error, { kind: 'connect-failure', code: 'UND_ERR_CLOSED' });
});
