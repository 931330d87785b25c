// The fast HTTP/1.1 pool in a real gateway (the engine gateway.ts wires
// in): what a client notices of the instance's HTTP/1.1 quirks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from '../testing/http-client';
import { startGateway } from '../testing/gateway-harness';
import { instanceDoc, serviceDoc } from '../testing/upstream-server';
import { RecordingInstance } from './testing/recording-instance';

test('through a gateway: a 103 before the answer reaches the client as the answer alone', async () => {
  const instance = await new RecordingInstance(() => 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\npage').start();
  const h = await startGateway([serviceDoc('web'), instanceDoc('web-1', 'web', instance.port)]);
  try {
    const r = await get(h.port, '/', { host: 'web.mesh' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'page');
  } finally {
    await h.stop();
    await instance.stop();
  }
});

test('through a gateway: an instance that closes every connection after answering (without saying so) still serves every GET', async () => {
  // Each answer is followed by a close the instance did not announce: the
  // next request either sees the close first (a new connection) or fails
  // on the stale one (a reset, retried).
  const instance = await new RecordingInstance((r) => ({ send: [`HTTP/1.1 200 OK\r\ncontent-length: ${r.url.length}\r\n\r\n${r.url}`], close: true })).start();
  const h = await startGateway([serviceDoc('web'), instanceDoc('web-1', 'web', instance.port)]);
  try {
    for (let i = 0; i < 20; i++) {
      const r = await get(h.port, `/${i}`, { host: 'web.mesh' });
      assert.equal(r.status, 200);
      assert.equal(r.text, `/${i}`);
    }
  } finally {
    await h.stop();
    await instance.stop();
  }
});

test('through a gateway: a POST body reaches the instance byte for byte, and a malformed answer is a 502, not a crash', async () => {
  const instance = await new RecordingInstance((r) =>
    r.url === '/bad' ? 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab' : `HTTP/1.1 201 Created\r\ncontent-length: ${r.raw.length}\r\n\r\n${r.raw.toString('latin1')}`,
  ).start();
  const h = await startGateway([serviceDoc('web'), instanceDoc('web-1', 'web', instance.port)]);
  try {
    const body = Buffer.alloc(10_000, 'q');
    const r = await get(h.port, '/post', { host: 'web.mesh', method: 'POST', body });
    assert.equal(r.status, 201);
    assert.ok(r.text.startsWith('POST /post HTTP/1.1\r\nhost: web.mesh\r\nconnection: keep-alive\r\n'), r.text.slice(0, 80));
    assert.ok(r.text.includes('\r\ncontent-length: 10000\r\n\r\n' + 'q'.repeat(10_000)));
    const bad = await get(h.port, '/bad', { host: 'web.mesh' });
    assert.equal(bad.status, 502);
    // And the gateway still serves.
    assert.equal((await get(h.port, '/post', { host: 'web.mesh', method: 'POST', body: 'x' })).status, 201);
  } finally {
    await h.stop();
    await instance.stop();
  }
});
