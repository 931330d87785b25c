// End to end through an in-process EdgeGateway, real sockets on 127.0.0.1 and
// real upstream servers.
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { Agent } from 'undici';
import { rawExchange } from './testing/raw-socket';
import type { EdgeView, RemoteRegion } from './config/edge-view';
import { selfSigned } from './testing/certificates';
import { get } from './testing/http-client';
import { startGateway, viewOf, type Harness } from './testing/gateway-harness';
import { doc, instanceDoc, serviceDoc, TestUpstream } from './testing/upstream-server';
import { mtlsPair } from './testing/mtls-pair';

describe('edge: routing and forwarded headers', () => {
  let web: TestUpstream;
  let api: TestUpstream;
  let h: Harness;

  before(async () => {
    web = await TestUpstream.start('web-1');
    api = await TestUpstream.start('api-1');
    h = await startGateway(
      [
        serviceDoc('web', { hosts: ['example.com'] }),
        serviceDoc('api', { hosts: ['example.com'], routes: [{ pathPrefix: '/api', stripPrefix: true }] }),
        instanceDoc('web-1', 'web', web.port),
        instanceDoc('api-1', 'api', api.port),
      ],
      { admin: { host: '127.0.0.1', port: 0 } },
    );
  });
  after(async () => {
    await h.stop();
    await web.close();
    await api.close();
  });

  it('routes by host and longest path prefix, strips the prefix, adds forwarded headers', async () => {
    const r = await get(h.port, '/api/users?id=7', {
      host: 'example.com',
      headers: { 'x-forwarded-for': '203.0.113.9', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-meridian-service': 'web' },
    });
    assert.equal(r.status, 200);
    const body = r.json<{ name: string; url: string; headers: Record<string, string> }>();
    assert.equal(body.name, 'api-1');
    assert.equal(body.url, '/users?id=7');
    assert.equal(body.headers.host, 'example.com');
    assert.equal(body.headers['x-forwarded-for'], '127.0.0.1', "an untrusted client's x-forwarded-for is replaced");
    assert.equal(body.headers['x-forwarded-proto'], 'http');
    assert.equal(body.headers['x-forwarded-host'], 'example.com');
    assert.match(body.headers['x-request-id'], /^[0-9a-f]{12}-[0-9a-z]+$/);
    // The trace goes on; the parent is now the edge's call to the instance.
    assert.match(body.headers.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/);
    assert.equal(body.headers['x-meridian-service'], undefined, 'a client cannot name the service at an edge');
    assert.equal(r.headers['x-meridian-region'], 'local');
    assert.equal(r.headers['x-meridian-edge'], 'test-edge');

    const w = await get(h.port, '/index.html', { host: 'EXAMPLE.com:80', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(w.json().name, 'web-1');
    assert.equal(w.json<{ headers: Record<string, string> }>().headers['x-request-id'], 'abc-123', 'kept when present');
    assert.equal((await get(h.port, '/', { host: 'web.mesh' })).json().name, 'web-1');
  });

  it('refuses a request that passed too many gateways with 508', async () => {
    const r = await get(h.port, '/', { host: 'web.mesh', headers: { 'x-meridian-hop': '2' } });
    assert.equal(r.status, 508);
    assert.match(r.text, /^loop detected/);
    assert.equal((await get(h.port, '/', { host: 'web.mesh', headers: { 'x-meridian-hop': '1' } })).status, 200);
    assert.equal(web.received.at(-1)?.headers['x-meridian-hop'], undefined, 'the hop header is not passed to instances');
  });

  it('serves /metrics, /healthz and /v1/view on the admin listener', async () => {
    const admin = h.gateway.adminAddress()!.port;
    const metrics = await get(admin, '/metrics');
    assert.match(metrics.text, /meridian_edge_requests_total\{service="api",region="local",status_class="2xx",part="edge"\} 1/);
    assert.match(metrics.text, /meridian_edge_request_duration_seconds_count\{[^}]*service="web",region="local"[^}]*\} 3/);
    assert.match(metrics.text, /meridian_edge_in_flight\{service="web",part="edge"\} 0/);
    assert.equal((await get(admin, '/healthz')).status, 200);
    const view = (await get(admin, '/v1/view')).json<{ services: Record<string, { instances: unknown[] }>; routes: Record<string, unknown> }>();
    assert.equal(view.services.api.instances.length, 1);
    assert.ok(view.routes['example.com']);
  });

  it('writes one access log line per request (sample 1), its query redacted', () => {
    const line = h.accessLog.lines.find((l) => l.url === '/api/users?<redacted>');
    assert.ok(line, JSON.stringify(h.accessLog.lines.map((l) => l.url)));
    assert.ok(!h.accessLog.lines.some((l) => String(l.url).includes('id=7')));
    assert.equal(line.status, 200);
    assert.equal(line.service, 'api');
    assert.equal(line.region, 'local');
  });
});

describe('edge: failover between instances', () => {
  it('moves from a dead local instance to another', async () => {
    const a = await TestUpstream.start('a');
    const b = await TestUpstream.start('b');
    const h = await startGateway([serviceDoc('echo'), instanceDoc('a', 'echo', a.port), instanceDoc('b', 'echo', b.port)]);
    try {
      await a.kill();
      for (let i = 0; i < 20; i++) {
        const r = await get(h.port, '/', { host: 'echo.mesh' });
        assert.equal(r.status, 200);
        assert.equal(r.json().name, 'b');
      }
    } finally {
      await h.stop();
      await b.close();
    }
  });

  it('serves a steady stream of GETs with zero failures while instances are killed', async () => {
    const ups = await Promise.all(['i1', 'i2', 'i3'].map((n) => TestUpstream.start(n)));
    const h = await startGateway([serviceDoc('echo'), ...ups.map((u) => instanceDoc(u.name, 'echo', u.port))]);
    const agent = new Agent({ connections: 16 });
    try {
      let sent = 0;
      const failures: string[] = [];
      const servedBy = new Map<string, number>();
      const deadline = Date.now() + 2_500;
      const worker = async () => {
        while (Date.now() < deadline && sent < 20_000) {
          sent++;
          try {
            const r = await get(h.port, '/', { host: 'echo.mesh', dispatcher: agent });
            if (r.status !== 200) failures.push(`${r.status} ${r.text}`);
            else servedBy.set(r.json<{ name: string }>().name, (servedBy.get(r.json<{ name: string }>().name) ?? 0) + 1);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      await new Promise((r) => setTimeout(r, 500));
      await ups[0].kill();
      await new Promise((r) => setTimeout(r, 700));
      await ups[1].kill();
      await load;
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} failed`);
      // Enough to span both kills even on a loaded machine.
      assert.ok(sent > 50, `only ${sent} requests`);
      assert.ok((servedBy.get('i3') ?? 0) > 0);
    } finally {
      await agent.close();
      await h.stop();
      await ups[2].close();
    }
  });
});

describe('edge: HTTPS, SNI, HTTP/2', () => {
  const a = selfSigned('a.example.com', ['a.example.com', '*.apps.example.com']);
  const b = selfSigned('b.example.com');
  let up: TestUpstream;
  let h: Harness;

  before(async () => {
    up = await TestUpstream.start('echo-1');
    h = await startGateway(
      [serviceDoc('echo', { hosts: ['a.example.com', 'b.example.com', 'x.apps.example.com'] }), instanceDoc('echo-1', 'echo', up.port)],
      {
        https: { host: '127.0.0.1', port: 0 },
        certificates: [
          { ...a, source: 'a' },
          { ...b, source: 'b' },
        ],
      },
    );
  });
  after(async () => {
    await h.stop();
    await up.close();
  });

  function servedCert(servername: string | undefined, ca: Buffer[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: h.httpsPort, servername, ca, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
        const cert = s.getPeerX509Certificate();
        s.destroy();
        resolve(cert?.subject ?? '');
      });
      s.on('error', reject);
    });
  }

  it('picks the certificate by SNI (exact, wildcard, default)', async () => {
    assert.match(await servedCert('b.example.com', [b.cert]), /CN=b\.example\.com/);
    assert.match(await servedCert('x.apps.example.com', [a.cert]), /CN=a\.example\.com/);
    assert.match(await servedCert('unknown.example.com', [a.cert]), /CN=a\.example\.com/, 'default: the first certificate');
    assert.match(await servedCert(undefined, [a.cert]), /CN=a\.example\.com/);
  });

  it('serves HTTP/1.1 over TLS on the fast path: keep-alive, a chunked upload and a pipelined request, in order', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: h.httpsPort, servername: 'a.example.com', ca: [a.cert] }, () => {
        assert.equal(s.alpnProtocol, false, 'no ALPN offered: HTTP/1.1');
        s.write(
          'POST /up HTTP/1.1\r\nHost: a.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' +
            'GET /second HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n',
        );
      });
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString('latin1')));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, text);
    assert.match(answers[0], /^HTTP\/1\.1 200 /);
    assert.match(answers[0], /"body":"hello world"/);
    assert.match(answers[0], /"x-forwarded-proto":"https"/);
    assert.match(answers[1], /^HTTP\/1\.1 200 /);
    assert.match(answers[1], /"url":"\/second"/);
    assert.match(answers[1], /\r\nconnection: close\r\n/i);
  });

  it('speaks HTTP/2 through ALPN and HTTP/1.1 over TLS', async () => {
    const session = http2.connect(`https://b.example.com:${h.httpsPort}`, { ca: [b.cert], host: '127.0.0.1', servername: 'b.example.com' } as http2.SecureClientSessionOptions);
    try {
      const body = await new Promise<{ status: number; text: string; headers: http2.IncomingHttpHeaders }>((resolve, reject) => {
        const req = session.request({ ':path': '/h2?x=1', ':method': 'GET', ':authority': 'b.example.com' });
        let text = '';
        let headers: http2.IncomingHttpHeaders = {};
        req.on('response', (hd) => (headers = hd));
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => resolve({ status: Number(headers[':status']), text, headers }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(body.status, 200);
      assert.equal(body.headers['x-meridian-edge'], 'test-edge');
      const seen = JSON.parse(body.text) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/h2?x=1');
      assert.equal(seen.headers.host, 'b.example.com');
      assert.equal(seen.headers['x-forwarded-proto'], 'https');

      // A POST with a body over HTTP/2 (no Content-Length).
      const posted = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/p', ':method': 'POST', ':authority': 'b.example.com' });
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => resolve(text));
        req.on('error', reject);
        req.end('hello over h2');
      });
      assert.equal(JSON.parse(posted).body, 'hello over h2');
    } finally {
      session.close();
    }

    const agent = new Agent({ connect: { ca: [a.cert], servername: 'a.example.com' } });
    try {
      const { request } = await import('undici');
      const r = await request(`https://127.0.0.1:${h.httpsPort}/one`, { headers: { host: 'a.example.com' }, dispatcher: agent });
      assert.equal(r.statusCode, 200);
      const seen = (await r.body.json()) as { headers: Record<string, string> };
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
    } finally {
      await agent.close();
    }
  });

  it('swaps certificates without dropping open connections', async () => {
    const session = http2.connect(`https://a.example.com:${h.httpsPort}`, { ca: [a.cert], host: '127.0.0.1', servername: 'a.example.com' } as http2.SecureClientSessionOptions);
    const ask = () =>
      new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': 'a.example.com' });
        req.on('response', (hd) => resolve(Number(hd[':status'])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
    try {
      assert.equal(await ask(), 200);
      const a2 = selfSigned('a.example.com', ['a.example.com']);
      h.gateway.setSecureContexts([
        { ...a2, source: 'a2' },
        { ...b, source: 'b' },
      ]);
      const served = await servedCert('a.example.com', [a2.cert]);
      assert.match(served, /CN=a\.example\.com/);
      assert.equal(new X509Certificate(a2.cert).subject, served, 'new handshakes get the new certificate');
      assert.equal(await ask(), 200, 'the open HTTP/2 session keeps working');
    } finally {
      session.close();
    }
  });
});

describe('edge and ingress: across regions', () => {
  function remote(name: string, port: number, services: Record<string, number>, extra: Partial<RemoteRegion> = {}): RemoteRegion {
    return {
      name,
      latitude: name === 'iad' ? 38.95 : 1.35,
      longitude: name === 'iad' ? -77.45 : 103.99,
      ingressAddress: `127.0.0.1:${port}`,
      reachable: true,
      rttMs: 0,
      services: new Map(Object.entries(services).map(([s, healthy]) => [s, { healthy, total: healthy, load: 0 }])),
      ...extra,
    };
  }
  const regions = [doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];

  it('sends to the nearest region with a healthy instance through its ingress, and the ingress serves locally', async () => {
    const iadInstance = await TestUpstream.start('echo-iad-1');
    const sinInstance = await TestUpstream.start('echo-sin-1');
    const iad = await startGateway([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', iadInstance.port)], { mode: 'ingress', region: 'iad', name: 'iad-ingress' });
    const sin = await startGateway([serviceDoc('echo'), instanceDoc('echo-sin-1', 'echo', sinInstance.port)], { mode: 'ingress', region: 'sin', name: 'sin-ingress' });
    const fraLocal = await TestUpstream.start('echo-fra-1');
    const edge = await startGateway([serviceDoc('echo'), ...regions, instanceDoc('echo-fra-1', 'echo', fraLocal.port)], { region: 'fra', name: 'fra-edge' });
    const withRemotes = (docs: unknown[]): EdgeView => {
      const base = viewOf(docs, 'fra');
      return { ...base, remoteRegions: new Map([['iad', remote('iad', iad.port, { echo: 1 })], ['sin', remote('sin', sin.port, { echo: 1 })]]) };
    };
    try {
      edge.source.set(withRemotes([serviceDoc('echo'), ...regions, instanceDoc('echo-fra-1', 'echo', fraLocal.port)]));
      const local = await get(edge.port, '/', { host: 'echo.mesh' });
      assert.equal(local.headers['x-meridian-region'], 'fra');
      assert.equal(local.json().name, 'echo-fra-1');

      // The local instance dies: the next region by distance from fra is iad.
      await fraLocal.kill();
      for (let i = 0; i < 10; i++) {
        const r = await get(edge.port, '/x?y=1', { host: 'echo.mesh' });
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-meridian-region'], 'iad');
        assert.equal(r.headers['x-meridian-edge'], 'fra-edge');
        assert.equal(r.json().name, 'echo-iad-1');
      }
      const seen = iadInstance.received.at(-1)!;
      assert.equal(seen.url, '/x?y=1');
      assert.equal(seen.headers.host, 'echo.mesh');
      assert.equal(seen.headers['x-forwarded-proto'], 'http', "the edge's forwarded headers are kept by the ingress");
      assert.equal(seen.headers['x-forwarded-host'], 'echo.mesh');
      assert.match(String(seen.headers['x-forwarded-for']), /^127\.0\.0\.1, 127\.0\.0\.1$/);
      assert.equal(seen.headers['x-meridian-service'], undefined);

      // Without local instances in the view at all, and iad gone too: sin.
      edge.source.set({ ...withRemotes([serviceDoc('echo'), ...regions]), remoteRegions: new Map([['iad', remote('iad', iad.port, { echo: 0 })], ['sin', remote('sin', sin.port, { echo: 1 })]]) });
      const r = await get(edge.port, '/', { host: 'echo.mesh' });
      assert.equal(r.headers['x-meridian-region'], 'sin');

      // A FailoverPolicy reorders: from fra, sin before iad.
      edge.source.set(withRemotes([serviceDoc('echo'), ...regions, doc('FailoverPolicy', 'echo', { service: 'echo', rules: [{ from: 'fra', regions: ['sin', 'iad'] }] })]));
      assert.equal((await get(edge.port, '/', { host: 'echo.mesh' })).headers['x-meridian-region'], 'sin');
    } finally {
      await edge.stop();
      await iad.stop();
      await sin.stop();
      await iadInstance.close();
      await sinInstance.close();
    }
  });

  it('an ingress takes the service from x-meridian-service, serves only locally, and never forwards to another region', async () => {
    const inst = await TestUpstream.start('echo-iad-1');
    const ingress = await startGateway([serviceDoc('echo'), serviceDoc('other'), instanceDoc('echo-iad-1', 'echo', inst.port)], { mode: 'ingress', region: 'iad', name: 'iad-ingress' });
    try {
      const r = await get(ingress.port, '/path', { host: 'api.example.com', headers: { 'x-meridian-service': 'echo', 'x-meridian-hop': '1' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-meridian-region'], 'iad');
      assert.equal(inst.received.at(-1)?.headers['x-meridian-hop'], undefined);

      // A remote region that has 'other' is in the view: the ingress does not use it.
      ingress.source.set({
        ...viewOf([serviceDoc('echo'), serviceDoc('other'), instanceDoc('echo-iad-1', 'echo', inst.port)], 'iad'),
        remoteRegions: new Map([['sin', remote('sin', 1, { other: 3 })]]),
      });
      const o = await get(ingress.port, '/', { host: 'x', headers: { 'x-meridian-service': 'other' } });
      assert.equal(o.status, 503);
      assert.equal(o.text, "no healthy instance of service 'other' in any region\n");
      assert.equal(o.headers['retry-after'], '1');
      const unknown = await get(ingress.port, '/', { host: 'x', headers: { 'x-meridian-service': 'made-up' } });
      assert.equal(unknown.status, 503);
      // Host routing works at an ingress too (east-west through *.mesh).
      assert.equal((await get(ingress.port, '/', { host: 'echo.mesh' })).status, 200);
    } finally {
      await ingress.stop();
      await inst.close();
    }
  });

  it('reaches a remote ingress over mutual TLS and HTTP/2 when the mesh identity is configured', async () => {
    const mtls = mtlsPair();
    const inst = await TestUpstream.start('echo-iad-1');
    const ingress = await startGateway([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', inst.port)], { ...mtls.ingressOptions, region: 'iad', name: 'iad-ingress' });
    const edge = await startGateway([serviceDoc('echo'), ...regions], { region: 'fra', name: 'fra-edge', meshTls: mtls.edgeMeshTls });
    try {
      edge.source.set({ ...viewOf([serviceDoc('echo'), ...regions], 'fra'), remoteRegions: new Map([['iad', remote('iad', ingress.httpsPort, { echo: 1 })]]) });
      const r = await get(edge.port, '/over-mtls', { host: 'echo.mesh' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-meridian-region'], 'iad');
      assert.equal(inst.received.at(-1)?.url, '/over-mtls');
      const sessions = (ingress.gateway.viewSummary().connections as { http2: number }).http2;
      assert.equal(sessions, 1, 'the edge talks HTTP/2 to the ingress');

      // Without a client certificate the ingress refuses the handshake.
      await assert.rejects(
        new Promise((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port: ingress.httpsPort, ca: [mtls.ingressCa], checkServerIdentity: () => undefined, ALPNProtocols: ['h2'] }, () => {
            s.once('data', resolve);
            s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
          });
          s.once('error', reject);
          s.once('close', () => reject(new Error('closed')));
        }),
      );
    } finally {
      await edge.stop();
      await ingress.stop();
      await inst.close();
      mtls.remove();
    }
  });
});

describe('edge: drain, redirect', () => {
  it('drains: beforeDrain first, stops accepting, finishes the request in flight, closes idle keep-alive connections', async () => {
    const up = await TestUpstream.start('slow');
    up.behaviour = (req, res) => {
      if (req.url !== '/slow') return false;
      setTimeout(() => res.end('done'), 600);
      return true;
    };
    // Keep-alive and drain period longer than the test's timeout: had the
    // drain waited for the idle keep-alive connection, it would not end.
    const h = await startGateway([serviceDoc('echo'), instanceDoc('slow', 'echo', up.port)], { limits: { keepAliveTimeoutMs: 600_000 } });
    const idleAgent = new Agent({ keepAliveTimeout: 600_000 });
    try {
      assert.equal((await get(h.port, '/', { host: 'echo.mesh', dispatcher: idleAgent })).status, 200);
      const events: string[] = [];
      h.gateway.beforeDrain = async () => {
        events.push('beforeDrain');
        await new Promise((r) => setTimeout(r, 50));
      };
      const slow = get(h.port, '/slow', { host: 'echo.mesh' }).then((r) => {
        events.push(`slow ${r.status} ${r.text}`);
      });
      await new Promise((r) => setTimeout(r, 100));
      const drained = h.gateway.drain(600_000).then(() => events.push('drained'));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(h.gateway.health().ok, false);
      const refused = await rawExchange(h.port, 'GET / HTTP/1.1\r\nHost: echo.mesh\r\n\r\n', 500);
      assert.ok(refused.closed && refused.data === '', 'no new connections');
      await Promise.all([slow, drained]);
      assert.equal(events[0], 'beforeDrain');
      assert.deepEqual(events.slice(1).sort(), ['drained', 'slow 200 done'], 'the request in flight finished');
    } finally {
      await idleAgent.close();
      await h.stop();
      await up.close();
    }
  });

  it('redirects HTTP to HTTPS with --redirect-http', async () => {
    const cert = selfSigned('echo.example.com');
    const h = await startGateway([serviceDoc('echo')], {
      https: { host: '127.0.0.1', port: 0 },
      certificates: [{ ...cert, source: 'c' }],
      redirectHttp: true,
    });
    try {
      const r = await get(h.port, '/a/b?c=1', { host: 'echo.example.com:8080' });
      assert.equal(r.status, 308);
      assert.equal(r.headers.location, `https://echo.example.com:${h.httpsPort}/a/b?c=1`);
    } finally {
      await h.stop();
    }
  });
});
