// H2InstancePool on its own, against a raw node:http2 h2c server: what goes
// out (pseudo-headers, te, request trailers) and what comes back (trailers,
// trailers-only split, error codes the retry logic classifies).
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { classifyUpstreamError } from './upstream-error';
import { H2InstancePool } from './h2-instance-pool';

interface Outcome {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders;
}

function send(pool: H2InstancePool, options: Partial<Dispatcher.DispatchOptions>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const out: Outcome = { status: 0, headers: {}, body: '', trailers: {} };
    pool.dispatch({ path: '/', method: 'GET', ...options } as Dispatcher.DispatchOptions, {
      onResponseStart: (_c, status, headers) => {
        out.status = status;
        out.headers = headers;
      },
      onResponseData: (_c, chunk) => (out.body += chunk.toString()),
      onResponseEnd: (_c, trailers) => resolve({ ...out, trailers }),
      onResponseError: (_c, err) => reject(err),
    });
  });
}

describe('H2InstancePool', () => {
  let server: http2.Http2Server;
  let port: number;
  let pool: H2InstancePool;
  const seen: { headers: IncomingHttpHeaders; body: string; trailers: IncomingHttpHeaders }[] = [];

  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      let body = '';
      stream.on('data', (d: Buffer) => (body += d.toString()));
      stream.on('end', () => {
        const trailers: IncomingHttpHeaders = {};
        Object.assign(trailers, (stream as unknown as { trailers?: IncomingHttpHeaders }).trailers ?? {});
        seen.push({ headers, body, trailers });
        const path = headers[':path'];
        if (path === '/trailers-only') {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found', 'x-meta': 'm' }, { endStream: true });
        } else if (path === '/slow') {
          setTimeout(() => !stream.destroyed && stream.respond({ ':status': 200 }, { endStream: true }), 1_000);
        } else if (path === '/reset') {
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        } else {
          stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-trailer': 'yes' }));
          stream.end(`echo:${body}`);
        }
      });
    });
    server.on('stream', (stream) => stream.on('trailers', (t: IncomingHttpHeaders) => ((stream as unknown as { trailers: IncomingHttpHeaders }).trailers = t)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    pool = new H2InstancePool('127.0.0.1', port, { connectTimeoutMs: 1_000 });
  });
  after(async () => {
    await pool.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends :authority from Host, te and the other headers; returns body and trailers', async () => {
    const r = await send(pool, { method: 'POST', path: '/x?y=1', headers: ['Host', 'svc.mesh', 'te', 'trailers', 'X-Two', 'a', 'x-two', 'b'], body: Buffer.from('hi') });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'echo:hi');
    assert.equal(r.headers[':status'], undefined, 'no pseudo-headers in the response headers');
    assert.equal(r.trailers['x-trailer'], 'yes');
    const h = seen.at(-1)!.headers;
    assert.equal(h[':authority'], 'svc.mesh');
    assert.equal(h[':path'], '/x?y=1');
    assert.equal(h[':scheme'], 'http');
    assert.equal(h.host, undefined);
    assert.equal(h.te, 'trailers');
    assert.equal(h['x-two'], 'a, b');
  });

  it("streams a request body and sends the client request's trailers after it", async () => {
    const body = Readable.from([Buffer.from('a'), Buffer.from('b')]);
    Object.defineProperty(body, 'trailers', { value: { 'x-req-trailer': 'done' } });
    const r = await send(pool, { method: 'POST', path: '/stream', body });
    assert.equal(r.body, 'echo:ab');
    assert.equal(seen.at(-1)!.trailers['x-req-trailer'], 'done');
  });

  it('splits a trailers-only response into headers and trailers', async () => {
    const r = await send(pool, { method: 'POST', path: '/trailers-only', body: Buffer.from('') });
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.equal(r.headers['grpc-status'], undefined);
    assert.equal(r.trailers['grpc-status'], '5');
    assert.equal(r.trailers['grpc-message'], 'not found');
    assert.equal(r.trailers['x-meta'], 'm');
  });

  it('fails with codes the retry logic knows: reset, headers timeout, connect failure', async () => {
    await assert.rejects(send(pool, { path: '/reset' }), (err) => classifyUpstreamError(err) === 'reset');
    await assert.rejects(send(pool, { path: '/slow', headersTimeout: 100 }), (err) => classifyUpstreamError(err) === 'timeout');
    const dead = new H2InstancePool('127.0.0.1', 1, { connectTimeoutMs: 1_000 });
    await assert.rejects(send(dead, {}), (err) => classifyUpstreamError(err) === 'connect-failure');
    await dead.destroy();
    // The pool is still usable after those.
    assert.equal((await send(pool, { method: 'POST', body: Buffer.from('ok') })).body, 'echo:ok');
  });

  it('tells the handler once when the caller aborts, after the call returns', async () => {
    let errors = 0;
    let controller: Dispatcher.DispatchController | undefined;
    pool.dispatch({ path: '/slow', method: 'GET' }, {
      onRequestStart: (c) => (controller = c),
      onResponseError: () => errors++,
    });
    controller!.abort(new Error('not wanted'));
    assert.equal(errors, 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(errors, 1);
  });
});
