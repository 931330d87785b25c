// What a hostile or broken client sends, over raw TCP: the edge answers
// 400/431/408, closes that connection, never lets the request reach an
// instance, and keeps serving everyone else. With either HTTP/1.1 engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../testing/http-client';
import { startGateway, type Harness } from '../testing/gateway-harness';
import { rawExchange, slowloris } from '../testing/raw-socket';
import { SMUGGLING_SHAPES } from '../testing/smuggling';
import { instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';

for (const engine of ['fast', 'node'] as const) describe(`listener hardening (${engine} HTTP/1.1)`, () => {
  let upstream: TestUpstream;
  let h: Harness;

  before(async () => {
    upstream = await TestUpstream.start('echo-1');
    h = await startGateway([serviceDoc('echo'), instanceDoc('echo-1', 'echo', upstream.port)], {
      http1Engine: engine,
      limits: { maxHeaderBytes: 8 * 1024, headersTimeoutMs: 500, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000 },
    });
  });
  after(async () => {
    await h.stop();
    await upstream.close();
  });


  for (const [name, text] of SMUGGLING_SHAPES) {
    it(`answers 400 to ${name}, which never reaches an instance`, async () => {
      const before = upstream.received.length;
      const bytesBefore = upstream.bytesReceived();
      const r = await rawExchange(h.port, text);
      assert.match(r.data, /^HTTP\/1\.1 400 /, r.data);
      assert.ok(r.closed, 'connection closed');
      // Give a smuggled request time to arrive if it were forwarded.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(upstream.received.length, before, 'nothing reached the instance');
      assert.equal(upstream.bytesReceived(), bytesBefore, 'not a byte reached the instance');
      assert.equal((await get(h.port, '/', { host: 'echo.mesh' })).status, 200, 'still serving');
    });
  }

  it('answers 431 to oversized headers', async () => {
    const r = await rawExchange(h.port, `GET / HTTP/1.1\r\nHost: echo.mesh\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    assert.match(r.data, /^HTTP\/1\.1 431 /);
    assert.ok(r.closed);
    assert.equal((await get(h.port, '/', { host: 'echo.mesh' })).status, 200);
  });

  it('closes a slowloris connection at the header timeout while serving others', async () => {
    const slow = slowloris(h.port, 50, 5_000);
    // Others are served meanwhile.
    for (let i = 0; i < 5; i++) assert.equal((await get(h.port, '/', { host: 'echo.mesh' })).status, 200);
    const r = await slow;
    assert.ok(r.closed, 'closed by the server');
    assert.ok(r.ms >= 400, `closed after ${r.ms} ms, before the header timeout (500 ms)`);
    assert.match(r.data, /^HTTP\/1\.1 408 /);
  });

  it('answers 404 with a short reason for an unknown host, and 400 without one', async () => {
    const r = await get(h.port, '/', { host: 'unknown.example.com' });
    assert.equal(r.status, 404);
    assert.equal(r.text, "no service is configured for host 'unknown.example.com'\n");
    assert.equal(r.headers['x-meridian-edge'], 'test-edge');
    const raw = await rawExchange(h.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.match(raw.data, /^HTTP\/1\.1 400 /);
  });

  it('counts what it refused', async () => {
    const text = await h.gateway.metrics.registry.metrics();
    assert.match(text, /meridian_edge_client_errors_total\{kind="bad-request",part="edge"\} [1-9]/);
    assert.match(text, /meridian_edge_client_errors_total\{kind="header-overflow",part="edge"\} 1/);
    assert.match(text, /meridian_edge_client_errors_total\{kind="timeout",part="edge"\} [1-9]/);
  });
});
