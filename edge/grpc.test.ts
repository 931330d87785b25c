// gRPC through the edge, end to end with @grpc/grpc-js: the client speaks h2c
// with prior knowledge to the plain listener or h2 over TLS (ALPN) to the
// HTTPS listener; the instance is an h2c gRPC server (Service port protocol
// grpc); edge -> ingress -> instance across regions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { RemoteRegion } from './config/edge-view';
import { selfSigned } from './testing/certificates';
import { startGateway, viewOf, type Harness } from './testing/gateway-harness';
import { chat, collect, count, echoClient, GrpcEcho, say } from './testing/grpc-echo';
import { doc, instanceDoc, serviceDoc } from './testing/upstream-server';
import { mtlsPair } from './testing/mtls-pair';

const grpcService = (name: string) => serviceDoc(name, { hosts: ['echo.example.com'], ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }] });

describe('gRPC through the edge (static mode)', () => {
  let instance: GrpcEcho;
  let h: Harness;
  const cert = selfSigned('echo.example.com');
  const clients: grpc.Client[] = [];

  before(async () => {
    instance = await GrpcEcho.start('grpc-1');
    h = await startGateway([grpcService('echo'), instanceDoc('grpc-1', 'echo', instance.port)], {
      https: { host: '127.0.0.1', port: 0 },
      certificates: [{ ...cert, source: 'test' }],
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await h.stop();
    await instance.close();
  });

  const plain = () => {
    const c = echoClient(h.port, { authority: 'echo.example.com' });
    clients.push(c);
    return c;
  };
  const overTls = () => {
    const c = echoClient(h.httpsPort, { authority: 'echo.example.com', ca: cert.cert });
    clients.push(c);
    return c;
  };

  it('passes a unary call with its metadata, forwarded headers and trailers (h2c and TLS)', async () => {
    for (const client of [plain(), overTls()]) {
      const { reply, trailers, headers } = await say(client, { text: 'hello' });
      assert.equal(reply.text, 'hello');
      assert.equal(reply.instance, 'grpc-1');
      assert.equal(reply.metadata['x-forwarded-host'], 'echo.example.com');
      assert.match(reply.metadata['x-request-id'], /^[0-9a-f]{12}-/);
      assert.deepEqual(trailers.get('x-echo-trailer'), ['grpc-1'], 'response trailers passed through');
      assert.deepEqual(headers.get('x-meridian-region'), ['local']);
    }
    assert.equal(h.gateway.viewSummary().connections && (h.gateway.viewSummary().connections as { http2: number }).http2 >= 2, true);
  });

  it('streams from the server', async () => {
    assert.deepEqual(await count(plain(), 5), ['1', '2', '3', '4', '5']);
    assert.deepEqual(await count(overTls(), 3), ['1', '2', '3']);
  });

  it('streams from the client', async () => {
    assert.equal((await collect(plain(), ['a', 'b', 'c'])).text, 'a,b,c');
    assert.equal((await collect(overTls(), ['x', 'y'])).text, 'x,y');
  });

  it('streams both ways, each message answered before the next is sent', async () => {
    assert.deepEqual(await chat(plain(), ['1', '2', '3']), ['echo:1', 'echo:2', 'echo:3']);
    assert.deepEqual(await chat(overTls(), ['a', 'b']), ['echo:a', 'echo:b']);
  });

  it('passes an error status and its message back to the client', async () => {
    for (const client of [plain(), overTls()]) {
      await assert.rejects(say(client, { text: 'no such thing', fail_code: grpc.status.NOT_FOUND }), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.NOT_FOUND);
        assert.equal(err.details, 'no such thing');
        assert.deepEqual(err.metadata.get('x-echo-trailer'), ['grpc-1']);
        return true;
      });
    }
  });

  it('ends a call past its deadline with DEADLINE_EXCEEDED and cancels it upstream', async () => {
    const before = instance.cancelled;
    await assert.rejects(say(plain(), { text: 'slow', sleep_ms: 1_000 }, 200), (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED);
    const t0 = Date.now();
    while (instance.cancelled === before && Date.now() - t0 < 2_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(instance.cancelled, before + 1, 'the instance saw the call cancelled');
    // The edge is fine afterwards.
    assert.equal((await say(plain(), { text: 'after' })).reply.text, 'after');
  });

  it('answers UNAVAILABLE-mapped errors when no instance is left, and HTTP/1.1 clients still work', async () => {
    const client = plain();
    h.setDocs([grpcService('echo')]);
    await assert.rejects(say(client, { text: 'x' }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
    h.setDocs([grpcService('echo'), instanceDoc('grpc-1', 'echo', instance.port)]);
    assert.equal((await say(client, { text: 'back' })).reply.text, 'back');
  });
});

describe('gRPC across regions: edge -> ingress -> instance', () => {
  const docs = [grpcService('echo'), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
  const iad = (port: number): RemoteRegion => ({
    name: 'iad',
    latitude: 38.95,
    longitude: -77.45,
    ingressAddress: `127.0.0.1:${port}`,
    reachable: true,
    rttMs: 0,
    services: new Map([['echo', { healthy: 1, total: 1, load: 0 }]]),
  });

  async function allKinds(client: ReturnType<typeof echoClient>): Promise<void> {
    const { reply, headers } = await say(client, { text: 'far' });
    assert.equal(reply.instance, 'grpc-iad-1');
    assert.deepEqual(headers.get('x-meridian-region'), ['iad']);
    assert.equal(reply.metadata['x-forwarded-host'], 'echo.example.com');
    assert.deepEqual(await count(client, 3), ['1', '2', '3']);
    assert.equal((await collect(client, ['p', 'q'])).text, 'p,q');
    assert.deepEqual(await chat(client, ['1', '2']), ['echo:1', 'echo:2']);
    await assert.rejects(say(client, { text: 'denied', fail_code: grpc.status.PERMISSION_DENIED }), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.PERMISSION_DENIED);
      assert.equal(err.details, 'denied');
      assert.deepEqual(err.metadata.get('x-echo-trailer'), ['grpc-iad-1']);
      return true;
    });
  }

  it('over mutual TLS (HTTP/2 by ALPN): all four kinds of call and error statuses', async () => {
    const mtls = mtlsPair();
    const instance = await GrpcEcho.start('grpc-iad-1');
    const ingress = await startGateway([grpcService('echo'), instanceDoc('grpc-iad-1', 'echo', instance.port)], { ...mtls.ingressOptions, region: 'iad', name: 'iad-ingress' });
    const edge = await startGateway(docs, { region: 'fra', name: 'fra-edge', meshTls: mtls.edgeMeshTls });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', iad(ingress.httpsPort)]]) });
    const client = echoClient(edge.port, { authority: 'echo.example.com' });
    try {
      await allKinds(client);
    } finally {
      client.close();
      await edge.stop();
      await ingress.stop();
      await instance.close();
      mtls.remove();
    }
  });

  it('in plain mode (h2c with prior knowledge to the ingress): all four kinds of call and error statuses', async () => {
    const instance = await GrpcEcho.start('grpc-iad-1');
    const ingress = await startGateway([grpcService('echo'), instanceDoc('grpc-iad-1', 'echo', instance.port)], { mode: 'ingress', region: 'iad', name: 'iad-ingress' });
    const edge = await startGateway(docs, { region: 'fra', name: 'fra-edge' });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', iad(ingress.port)]]) });
    const client = echoClient(edge.port, { authority: 'echo.example.com' });
    try {
      await allKinds(client);
      assert.equal((ingress.gateway.viewSummary().connections as { http2: number }).http2, 1, 'one h2c session from the edge to the ingress');
    } finally {
      client.close();
      await edge.stop();
      await ingress.stop();
      await instance.close();
    }
  });
});
