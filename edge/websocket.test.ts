// WebSocket through the edge, end to end with the `ws` package: an echo
// server as the instance, a client through the edge (static mode), through
// the HTTPS listener, and through edge -> ingress -> instance.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RemoteRegion } from './config/edge-view';
import { selfSigned } from './testing/certificates';
import { get } from './testing/http-client';
import { startGateway, viewOf, type Harness } from './testing/gateway-harness';
import { rawExchange } from './testing/raw-socket';
import { doc, instanceDoc, serviceDoc } from './testing/upstream-server';
import { closed, nextMessage, openWs, WsEcho } from './testing/ws-echo';
import { mtlsPair } from './testing/mtls-pair';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
// Same trace, the gateway's own span as the parent.
const CONTINUED_TRACE = /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/;

async function roundTrips(ws: import('ws').WebSocket): Promise<void> {
  ws.send('hello');
  const text = await nextMessage(ws);
  assert.equal(text.binary, false);
  assert.equal(text.data.toString(), 'hello');
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  ws.send(bytes);
  const bin = await nextMessage(ws);
  assert.equal(bin.binary, true);
  assert.deepEqual(bin.data, bytes);
  // Larger than one TCP segment, both ways.
  const big = Buffer.alloc(256 * 1024, 7);
  ws.send(big);
  assert.deepEqual((await nextMessage(ws)).data, big);
}

describe('WebSocket through the edge (static mode)', () => {
  let a: WsEcho;
  let h: Harness;
  const cert = selfSigned('ws.example.com');

  before(async () => {
    a = await WsEcho.start('ws-1');
    h = await startGateway([serviceDoc('ws', { hosts: ['ws.example.com'] }), instanceDoc('ws-1', 'ws', a.port)], {
      https: { host: '127.0.0.1', port: 0 },
      certificates: [{ ...cert, source: 'test' }],
    });
  });
  after(async () => {
    await h.stop();
    await a.close();
  });

  it('upgrades with the same forwarded headers as a request, and passes text and binary messages both ways', async () => {
    const { ws, response } = await openWs(h.port, '/chat?room=1', 'ws.example.com', { headers: { traceparent: TRACEPARENT, 'x-forwarded-for': '203.0.113.9' } });
    try {
      assert.equal(response.statusCode, 101);
      assert.equal(response.headers['x-meridian-region'], 'local');
      assert.equal(response.headers['x-meridian-edge'], 'test-edge');
      assert.equal(response.headers['x-instance'], 'ws-1');
      const seen = a.upgrades.at(-1)!;
      assert.equal(seen.url, '/chat?room=1');
      assert.equal(seen.headers.host, 'ws.example.com');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', "an untrusted client's x-forwarded-for is replaced");
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-host'], 'ws.example.com');
      assert.match(String(seen.headers['x-request-id']), /^[0-9a-f]{12}-/);
      assert.match(String(seen.headers.traceparent), CONTINUED_TRACE);
      assert.equal(seen.headers['x-meridian-hop'], undefined);
      await roundTrips(ws);
    } finally {
      ws.terminate();
    }
  });

  it("passes the client's close code to the instance", async () => {
    const { ws } = await openWs(h.port, '/', 'ws.example.com');
    const seen = a.nextClose();
    ws.close(4000, 'client says bye');
    assert.deepEqual(await seen, { code: 4000, reason: 'client says bye' });
    assert.equal((await closed(ws)).code, 4000);
  });

  it("ends the client when the instance closes, with the instance's code; a second connection works", async () => {
    const first = await openWs(h.port, '/', 'ws.example.com');
    const ended = closed(first.ws);
    first.ws.send('close-me');
    assert.deepEqual(await ended, { code: 4001, reason: 'server says bye' });
    const second = await openWs(h.port, '/', 'ws.example.com');
    try {
      second.ws.send('again');
      assert.equal((await nextMessage(second.ws)).data.toString(), 'again');
    } finally {
      second.ws.terminate();
    }
    // Both closed connections are no longer in flight.
    const t0 = Date.now();
    while (h.gateway.proxy.inFlight !== 0 && Date.now() - t0 < 2_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.gateway.proxy.inFlight, 0);
  });

  it('works over TLS (the HTTPS listener, HTTP/1.1 by ALPN)', async () => {
    const { ws, response } = await openWs(h.httpsPort, '/', 'ws.example.com', { ca: cert.cert });
    try {
      assert.equal(response.headers['x-meridian-edge'], 'test-edge');
      assert.equal(a.upgrades.at(-1)!.headers['x-forwarded-proto'], 'https');
      await roundTrips(ws);
    } finally {
      ws.terminate();
    }
  });

  it("passes an instance's refusal on, and answers itself for an unknown host", async () => {
    await assert.rejects(openWs(h.port, '/forbidden', 'ws.example.com'), (err: { status: number; body: string; headers: Record<string, string> }) => {
      assert.equal(err.status, 403);
      assert.equal(err.body, 'forbidden\n');
      assert.equal(err.headers['x-from'], 'instance');
      assert.equal(err.headers['x-meridian-edge'], 'test-edge');
      return true;
    });
    await assert.rejects(openWs(h.port, '/', 'nowhere.example.com'), (err: { status: number; body: string }) => {
      assert.equal(err.status, 404);
      assert.equal(err.body, "no service is configured for host 'nowhere.example.com'\n");
      return true;
    });
    const raw = await rawExchange(h.port, 'GET / HTTP/1.1\r\nHost: ws.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Meridian-Hop: 2\r\n\r\n');
    assert.match(raw.data, /^HTTP\/1\.1 508 /);
    assert.ok(raw.closed);
    assert.equal((await get(h.port, '/', { host: 'ws.example.com' })).status, 426, 'plain requests still go through');
  });
});

describe('WebSocket: redirect to HTTPS', () => {
  it('answers an upgrade on the plain listener with a 308 when it redirects', async () => {
    const cert = selfSigned('ws.example.com');
    const h = await startGateway([serviceDoc('ws', { hosts: ['ws.example.com'] })], {
      https: { host: '127.0.0.1', port: 0 },
      certificates: [{ ...cert, source: 'c' }],
      redirectHttp: true,
    });
    try {
      await assert.rejects(openWs(h.port, '/x?y=1', 'ws.example.com'), (err: { status: number; headers: Record<string, string> }) => {
        assert.equal(err.status, 308);
        assert.equal(err.headers.location, `https://ws.example.com:${h.httpsPort}/x?y=1`);
        return true;
      });
    } finally {
      await h.stop();
    }
  });
});

describe('WebSocket: failover, idle timeout', () => {
  it('tries the next instance when the connect fails before the 101', async () => {
    const dead = await WsEcho.start('dead');
    const live = await WsEcho.start('live');
    await dead.close();
    // Weighted so that the dead one is picked first.
    const h = await startGateway([serviceDoc('ws'), instanceDoc('dead', 'ws', dead.port, { weight: 100 }), instanceDoc('live', 'ws', live.port)]);
    try {
      for (let i = 0; i < 3; i++) {
        const { ws, response } = await openWs(h.port, '/', 'ws.mesh');
        assert.equal(response.headers['x-instance'], 'live');
        ws.terminate();
      }
      assert.ok((await upstreamErrors(h, 'connect-failure')) >= 1, 'a connect failure was retried on the live instance');
    } finally {
      await h.stop();
      await live.close();
    }
  });

  it('moves a handshake the instance does not answer within the per-try timeout to the next instance', async () => {
    // Accepts the connection and never answers the handshake.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const live = await WsEcho.start('live');
    const h = await startGateway([
      serviceDoc('ws'),
      doc('ResiliencePolicy', 'ws', { service: 'ws', retries: { perTryTimeout: '150ms' } }),
      // Weighted so that the silent one is picked first.
      instanceDoc('silent', 'ws', (silent.address() as net.AddressInfo).port, { weight: 100 }),
      instanceDoc('live', 'ws', live.port),
    ]);
    try {
      for (let i = 0; i < 3; i++) {
        const { ws, response } = await openWs(h.port, '/', 'ws.mesh');
        assert.equal(response.headers['x-instance'], 'live');
        ws.terminate();
      }
      assert.ok((await upstreamErrors(h, 'timeout')) >= 1, 'a try timed out on the silent instance and went to the live one');
    } finally {
      await h.stop();
      await live.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('closes a tunnel with no traffic for the idle timeout', async () => {
    const a = await WsEcho.start('ws-1');
    const h = await startGateway([
      serviceDoc('ws'),
      instanceDoc('ws-1', 'ws', a.port),
      doc('ResiliencePolicy', 'ws', { service: 'ws', timeouts: { idle: '300ms' } }),
    ]);
    try {
      const { ws } = await openWs(h.port, '/', 'ws.mesh');
      const t0 = Date.now();
      ws.send('keep');
      await nextMessage(ws);
      const c = await closed(ws, 10_000);
      assert.equal(c.code, 1006, 'closed without a close frame');
      const ms = Date.now() - t0;
      // Not before the idle timeout; the wait above only bounds a hang.
      assert.ok(ms >= 250, `closed after ${ms} ms`);
    } finally {
      await h.stop();
      await a.close();
    }
  });
});

describe('WebSocket: drain', () => {
  it('keeps an open WebSocket through the drain period, then closes it', async () => {
    const a = await WsEcho.start('ws-1');
    const h = await startGateway([serviceDoc('ws'), instanceDoc('ws-1', 'ws', a.port)]);
    try {
      const { ws } = await openWs(h.port, '/', 'ws.mesh');
      const t0 = Date.now();
      const drained = h.gateway.drain(600);
      await new Promise((r) => setTimeout(r, 100));
      ws.send('still here');
      assert.equal((await nextMessage(ws)).data.toString(), 'still here', 'open during the drain period');
      const c = await closed(ws, 3_000);
      await drained;
      assert.ok(Date.now() - t0 >= 500, 'closed at the end of the drain period');
      assert.notEqual(c.code, 1000);
    } finally {
      await h.stop();
      await a.close();
    }
  });
});

describe('WebSocket across regions: edge -> ingress -> instance', () => {
  const iad = (port: number): RemoteRegion => ({
    name: 'iad',
    latitude: 38.95,
    longitude: -77.45,
    ingressAddress: `127.0.0.1:${port}`,
    reachable: true,
    rttMs: 0,
    services: new Map([['ws', { healthy: 1, total: 1, load: 0 }]]),
  });

  it('upgrades over mutual TLS to the ingress', async () => {
    const mtls = mtlsPair();
    const instance = await WsEcho.start('ws-iad-1');
    const ingress = await startGateway([serviceDoc('ws'), instanceDoc('ws-iad-1', 'ws', instance.port)], { ...mtls.ingressOptions, region: 'iad', name: 'iad-ingress' });
    const docs = [serviceDoc('ws'), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
    const edge = await startGateway(docs, { region: 'fra', name: 'fra-edge', meshTls: mtls.edgeMeshTls });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', iad(ingress.httpsPort)]]) });
    try {
      const { ws, response } = await openWs(edge.port, '/', 'ws.mesh');
      assert.equal(response.headers['x-meridian-region'], 'iad');
      assert.equal(instance.upgrades.at(-1)!.headers['x-forwarded-proto'], 'http');
      await roundTrips(ws);
      const seenClose = instance.nextClose();
      ws.close(4003, 'over tls');
      assert.deepEqual(await seenClose, { code: 4003, reason: 'over tls' });
    } finally {
      await edge.stop();
      await ingress.stop();
      await instance.close();
      mtls.remove();
    }
  });

  it('upgrades through the remote ingress, messages and close codes both ways', async () => {
    const instance = await WsEcho.start('ws-iad-1');
    const ingress = await startGateway([serviceDoc('ws', { hosts: ['ws.example.com'] }), instanceDoc('ws-iad-1', 'ws', instance.port)], {
      mode: 'ingress',
      region: 'iad',
      name: 'iad-ingress',
    });
    const docs = [serviceDoc('ws', { hosts: ['ws.example.com'] }), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
    const edge = await startGateway(docs, { region: 'fra', name: 'fra-edge' });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', iad(ingress.port)]]) });
    try {
      const { ws, response } = await openWs(edge.port, '/live', 'ws.example.com', { headers: { traceparent: TRACEPARENT } });
      assert.equal(response.headers['x-meridian-region'], 'iad');
      assert.equal(response.headers['x-meridian-edge'], 'fra-edge');
      const seen = instance.upgrades.at(-1)!;
      assert.equal(seen.url, '/live');
      assert.equal(seen.headers['x-forwarded-host'], 'ws.example.com');
      assert.equal(seen.headers['x-forwarded-proto'], 'http', "the edge's forwarded headers are kept by the ingress");
      assert.match(String(seen.headers.traceparent), CONTINUED_TRACE);
      assert.equal(seen.headers['x-meridian-service'], undefined);
      await roundTrips(ws);
      const seenClose = instance.nextClose();
      ws.close(4002, 'done here');
      assert.deepEqual(await seenClose, { code: 4002, reason: 'done here' });

      const again = await openWs(edge.port, '/', 'ws.example.com');
      const ended = closed(again.ws);
      again.ws.send('close-me');
      assert.deepEqual(await ended, { code: 4001, reason: 'server says bye' });
      const t0 = Date.now();
      while ((edge.gateway.proxy.inFlight !== 0 || ingress.gateway.proxy.inFlight !== 0) && Date.now() - t0 < 2_000) await new Promise((r) => setTimeout(r, 20));
      assert.equal(edge.gateway.proxy.inFlight, 0);
      assert.equal(ingress.gateway.proxy.inFlight, 0);
    } finally {
      await edge.stop();
      await ingress.stop();
      await instance.close();
    }
  });
});

// meridian_edge_upstream_errors_total of one kind, as the gateway counts it.
async function upstreamErrors(h: Harness, kind: string): Promise<number> {
  const text = await h.gateway.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('meridian_edge_upstream_errors_total{') && l.includes(`kind="${kind}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}
