// TCP services through real gateways on 127.0.0.1: a line protocol
// (testing/line-echo.ts) through an edge's TCP listener, connect failover,
// a remote region's ingress over mutual TLS, the connection limit, the idle
// timeout, the mesh listener's caller check, port clashes, views that
// remove a port, and what /metrics says about all of it.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { SHARED_LABEL_NAMES } from '../../lib/observability/metrics';
import { findSample, readSamples } from '../../test-support/metric-samples';
import { assertPromtoolAccepts } from '../../test-support/promtool';
import type { RemoteRegion } from '../config/edge-view';
import { LogLines, startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { checkBothWays, freePort, LineClient, LineEcho } from '../testing/line-echo';
import { mtlsPair } from '../testing/mtls-pair';
import { rawExchange } from '../testing/raw-socket';
import { doc, instanceDoc, serviceDoc } from '../testing/upstream-server';

const tcpService = (name: string, port: number, extra: Record<string, unknown> = {}) => serviceDoc(name, { ports: [{ name: 'lines', port, protocol: 'tcp', public: true }], healthCheck: { type: 'tcp' }, ...extra });

async function metricsOf(h: Harness): Promise<ReturnType<typeof readSamples>> {
  const admin = h.gateway.adminAddress();
  assert.ok(admin, 'the gateway has an admin server');
  const res = await fetch(`http://127.0.0.1:${admin.port}/metrics`);
  assert.equal(res.status, 200);
  return readSamples(await res.text());
}

async function metric(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  return findSample(await metricsOf(h), name, labels)?.value ?? 0;
}

// Waits for a condition the gateway reaches on its own (a bound on a hang, not a timing assert).
async function until(what: string, condition: () => boolean | Promise<boolean>, waitMs = 5_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${waitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const admin = { host: '127.0.0.1', port: 0 };

describe('TCP service through the edge (static mode)', () => {
  let a: LineEcho;
  let h: Harness;
  let port: number;

  before(async () => {
    a = await LineEcho.start('a');
    port = await freePort();
    h = await startGateway([tcpService('lines', port), instanceDoc('lines-a', 'lines', a.port)], { admin });
  });
  after(async () => {
    await h.stop();
    await a.close();
  });

  it('pipes a line protocol both ways on the Service port, the server speaking first', async () => {
    const c = await LineClient.connect(port);
    try {
      // Sent before the upstream is surely there: held, then passed on.
      c.send('early');
      assert.equal(await c.nextLine(), 'hello a');
      assert.equal(await c.nextLine(), 'a: early');
      c.send('ping');
      assert.equal(await c.nextLine(), 'a: ping');
      // Larger than a socket buffer, both ways.
      const big = 'x'.repeat(512 * 1024);
      c.send(big);
      assert.equal(await c.nextLine(), `a: ${big}`);
    } finally {
      c.destroy();
    }
  });

  it("passes a client's half-close on: the answer still comes back, then the connection closes", async () => {
    const c = await LineClient.connect(port);
    c.send('last words');
    c.socket.end();
    assert.equal(await c.nextLine(), 'hello a');
    assert.equal(await c.nextLine(), 'a: last words');
    assert.ok(await c.closedWithin(), 'closed after the instance closed its side');
  });

  it('counts the connection, its bytes each way and the open connections in /metrics', async () => {
    const before = await metricsOf(h);
    const inBefore = findSample(before, 'meridian_tcp_bytes_total', { service: 'lines', port: 'lines', direction: 'in' })?.value ?? 0;
    const outBefore = findSample(before, 'meridian_tcp_bytes_total', { service: 'lines', port: 'lines', direction: 'out' })?.value ?? 0;
    const connectedBefore = findSample(before, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'local', outcome: 'connected' })?.value ?? 0;
    const c = await LineClient.connect(port);
    try {
      assert.equal(await c.nextLine(), 'hello a');
      c.send('0123456789');
      assert.equal(await c.nextLine(), 'a: 0123456789');
      assert.equal(await metric(h, 'meridian_tcp_active_connections', { service: 'lines', port: 'lines' }), 1);
      assert.equal(await metric(h, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'local', outcome: 'connected' }), connectedBefore + 1);
      assert.equal(await metric(h, 'meridian_tcp_bytes_total', { service: 'lines', port: 'lines', direction: 'in' }), inBefore + 11);
      assert.equal(await metric(h, 'meridian_tcp_bytes_total', { service: 'lines', port: 'lines', direction: 'out' }), outBefore + 'hello a\n'.length + 'a: 0123456789\n'.length);
      // Valid Prometheus text to promtool, with the shared label names only.
      const text = await (await fetch(`http://127.0.0.1:${h.gateway.adminAddress()!.port}/metrics`)).text();
      await assertPromtoolAccepts(text, "an edge's /metrics with TCP samples");
      for (const sample of readSamples(text).filter((x) => x.name.startsWith('meridian_tcp_'))) {
        for (const label of Object.keys(sample.labels)) assert.ok(SHARED_LABEL_NAMES.has(label), `${sample.name} has label '${label}'`);
      }
    } finally {
      c.destroy();
    }
    await until('the connection is no longer open', async () => (await metric(h, 'meridian_tcp_active_connections', { service: 'lines', port: 'lines' })) === 0);
  });

  it('refuses a meridian-tcp upgrade on its public HTTP listener (400), as any upgrade but WebSocket', async () => {
    const raw = await rawExchange(
      h.port,
      'GET / HTTP/1.1\r\nHost: lines.mesh\r\nConnection: Upgrade\r\nUpgrade: meridian-tcp\r\nx-meridian-service: lines\r\nx-meridian-port: lines\r\nx-meridian-hop: 1\r\n\r\n',
    );
    assert.match(raw.data, /^HTTP\/1\.1 400 /);
    assert.match(raw.data, /only websocket upgrades are forwarded/);
    assert.ok(raw.closed);
    assert.equal(a.connections, 3, 'the instance saw only the connections of the tests above');
  });
});

describe('TCP: failover, limits, idle timeout', () => {
  it('tries the next instance when the first refuses the connect', async () => {
    const dead = await LineEcho.start('dead');
    const live = await LineEcho.start('live');
    await dead.close();
    const port = await freePort();
    // Weighted so that the dead one is picked first.
    const h = await startGateway([tcpService('lines', port), instanceDoc('dead', 'lines', dead.port, { weight: 100 }), instanceDoc('live', 'lines', live.port)], { admin });
    try {
      for (let i = 0; i < 3; i++) {
        const c = await LineClient.connect(port);
        c.send(`try ${i}`);
        assert.equal(await c.nextLine(), 'hello live');
        assert.equal(await c.nextLine(), `live: try ${i}`);
        c.destroy();
      }
      assert.ok((await metric(h, 'meridian_tcp_connect_failovers_total', { service: 'lines', port: 'lines' })) >= 1, 'a failover was counted');
      assert.ok((await metric(h, 'meridian_edge_upstream_errors_total', { service: 'lines', region: 'local', kind: 'connect-failure' })) >= 1);
    } finally {
      await h.stop();
      await live.close();
    }
  });

  it('closes the client when no instance can be connected, after trying each', async () => {
    const dead1 = await LineEcho.start('dead1');
    const dead2 = await LineEcho.start('dead2');
    await dead1.close();
    await dead2.close();
    const port = await freePort();
    const h = await startGateway([tcpService('lines', port), instanceDoc('d1', 'lines', dead1.port), instanceDoc('d2', 'lines', dead2.port)], { admin });
    try {
      const c = await LineClient.connect(port);
      assert.ok(await c.closedWithin(), 'closed');
      assert.deepEqual(c.received(), []);
      assert.equal(await metric(h, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'local', outcome: 'connect-failed' }), 1);
      assert.equal(await metric(h, 'meridian_edge_upstream_errors_total', { service: 'lines', region: 'local', kind: 'connect-failure' }), 2);
    } finally {
      await h.stop();
    }
  });

  it('refuses the connection over --tcp-max-connections at once, and counts it', async () => {
    const a = await LineEcho.start('a');
    const port = await freePort();
    const h = await startGateway([tcpService('lines', port), instanceDoc('a', 'lines', a.port)], { admin, tcp: { maxConnections: 2 } });
    const open: LineClient[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await LineClient.connect(port);
        open.push(c);
        assert.equal(await c.nextLine(), 'hello a');
      }
      const third = await LineClient.connect(port);
      assert.ok(await third.closedWithin(), 'the third connection is closed');
      assert.deepEqual(third.received(), []);
      assert.equal(await metric(h, 'meridian_tcp_refused_total', { reason: 'limit' }), 1);
      assert.equal(a.connections, 2, 'the instance never saw the third');
      // One leaves: there is room again.
      open.shift()!.destroy();
      await until('the limit has room again', async () => {
        const c = await LineClient.connect(port);
        try {
          return (await c.nextLine(2_000)) === 'hello a';
        } catch {
          return false;
        } finally {
          c.destroy();
        }
      });
    } finally {
      for (const c of open) c.destroy();
      await h.stop();
      await a.close();
    }
  });

  it("closes a connection with no traffic either way for the service's idle timeout", async () => {
    const a = await LineEcho.start('a');
    const port = await freePort();
    const h = await startGateway([tcpService('lines', port), instanceDoc('a', 'lines', a.port), doc('ResiliencePolicy', 'lines', { service: 'lines', timeouts: { idle: '300ms' } })]);
    try {
      const c = await LineClient.connect(port);
      assert.equal(await c.nextLine(), 'hello a');
      c.send('keep');
      assert.equal(await c.nextLine(), 'a: keep');
      assert.ok(await c.closedWithin(10_000), 'closed by the idle timeout');
      await until('the instance side is closed too', () => a.open === 0);
    } finally {
      await h.stop();
      await a.close();
    }
  });
});

describe('TCP: drain', () => {
  it('stops accepting, keeps an open connection through the drain period, then closes it', async () => {
    const a = await LineEcho.start('a');
    const port = await freePort();
    const h = await startGateway([tcpService('lines', port), instanceDoc('a', 'lines', a.port)]);
    try {
      const c = await LineClient.connect(port);
      assert.equal(await c.nextLine(), 'hello a');
      const drained = h.gateway.drain(600);
      await assert.rejects(LineClient.connect(port), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED', 'no new connections');
      c.send('still here');
      assert.equal(await c.nextLine(), 'a: still here', 'open during the drain period');
      assert.ok(await c.closedWithin(5_000), 'closed at the end of the drain period');
      await drained;
    } finally {
      await h.stop();
      await a.close();
    }
  });

  it('ends the drain early once the last connection closed', async () => {
    const a = await LineEcho.start('a');
    const port = await freePort();
    const h = await startGateway([tcpService('lines', port), instanceDoc('a', 'lines', a.port)]);
    try {
      const c = await LineClient.connect(port);
      assert.equal(await c.nextLine(), 'hello a');
      let done = false;
      const drained = h.gateway.drain(60_000).then(() => (done = true));
      c.destroy();
      await until('the drain is over', () => done);
      await drained;
    } finally {
      await h.stop();
      await a.close();
    }
  });
});

describe('TCP: listeners follow the view', () => {
  it('opens a port a view adds, closes one it removes (open connections go on), and logs clashes without crashing', async () => {
    const a = await LineEcho.start('a');
    const b = await LineEcho.start('b');
    const [p1, p2] = [await freePort(), await freePort()];
    const log = new LogLines();
    const h = await startGateway([tcpService('alpha', p1), instanceDoc('a', 'alpha', a.port)], { logger: pino({ level: 'info' }, log) });
    const lines = (msg: string) => log.lines.filter((l) => l.msg === msg);
    try {
      const kept = await LineClient.connect(p1);
      assert.equal(await kept.nextLine(), 'hello a');

      // beta takes p1 too (alpha keeps it, first by name) and gamma the edge's own HTTP port; delta is new on p2.
      h.setDocs([
        tcpService('alpha', p1),
        tcpService('beta', p1),
        tcpService('gamma', h.port),
        tcpService('delta', p2),
        instanceDoc('a', 'alpha', a.port),
        instanceDoc('b', 'beta', b.port),
        instanceDoc('d', 'delta', b.port),
      ]);
      await h.gateway.tcp.settled();
      const clashes = lines('tcp port clash').map((l) => String(l.clash));
      assert.deepEqual(clashes.sort(), [
        `Service beta port 'lines' (tcp ${p1}) clashes with Service alpha port 'lines' (tcp ${p1}); Service alpha keeps the port`,
        `Service gamma port 'lines' (tcp ${h.port}) clashes with this proxy's --http listener (port ${h.port}); no TCP listener for it`,
      ]);
      const onP1 = await LineClient.connect(p1);
      assert.equal(await onP1.nextLine(), 'hello a', 'alpha keeps the port');
      onP1.destroy();
      const onP2 = await LineClient.connect(p2);
      assert.equal(await onP2.nextLine(), 'hello b', 'a port the view added');
      onP2.destroy();
      assert.equal((await fetch(`http://127.0.0.1:${h.port}/`, { headers: { host: 'nowhere.example.com' } })).status, 404, 'the HTTP listener still answers');

      const view = h.gateway.viewSummary().tcp as { listeners: { port: number; service: string; scope: string }[]; clashes: string[] };
      assert.deepEqual(
        view.listeners.map((l) => [l.scope, l.port, l.service]),
        [
          ['public', p1, 'alpha'],
          ['public', p2, 'delta'],
        ].sort((x, y) => (x[1] as number) - (y[1] as number)),
      );
      assert.equal(view.clashes.length, 2);

      // The same view again: the clashes are not logged again.
      h.setDocs([tcpService('alpha', p1), tcpService('beta', p1), tcpService('gamma', h.port), tcpService('delta', p2), instanceDoc('a', 'alpha', a.port)]);
      await h.gateway.tcp.settled();
      assert.equal(lines('tcp port clash').length, 2);

      // alpha goes: p1 no longer accepts; the open connection goes on.
      h.setDocs([tcpService('delta', p2), instanceDoc('a', 'alpha', a.port), instanceDoc('d', 'delta', b.port)]);
      await h.gateway.tcp.settled();
      await assert.rejects(LineClient.connect(p1), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      kept.send('still here');
      assert.equal(await kept.nextLine(), 'a: still here');
      kept.destroy();
    } finally {
      await h.stop();
      await a.close();
      await b.close();
    }
  });

  it('logs a port it cannot bind, and binds it with a later view once free', async () => {
    const a = await LineEcho.start('a');
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    const log = new LogLines();
    const docs = [tcpService('lines', port), instanceDoc('a', 'lines', a.port)];
    const h = await startGateway(docs, { logger: pino({ level: 'info' }, log) });
    try {
      const failed = log.lines.filter((l) => l.msg === 'tcp listener could not listen; tried again with the next view');
      assert.equal(failed.length, 1);
      assert.equal(failed[0].code, 'EADDRINUSE');
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      h.setDocs(docs);
      await h.gateway.tcp.settled();
      const c = await LineClient.connect(port);
      assert.equal(await c.nextLine(), 'hello a');
      c.destroy();
    } finally {
      await h.stop();
      await a.close();
      if (squatter.listening) squatter.close();
    }
  });
});

describe('TCP on the mesh listener', () => {
  // The mesh listener on another loopback address, so the public and mesh TCP listeners share the port number.
  const mesh = { http: { host: '127.0.0.2', port: 0 }, advertise: ['127.0.0.2'] };
  const region = (instanceNetworks?: string[]) => doc('Region', 'local', { location: { latitude: 50, longitude: 8 }, ...(instanceNetworks ? { instanceNetworks } : {}) });

  it("takes callers inside the Region's instance networks, refuses (and counts) the others", async () => {
    const a = await LineEcho.start('a');
    const port = await freePort();
    const h = await startGateway([tcpService('lines', port), instanceDoc('a', 'lines', a.port), region()], { admin, mesh });
    try {
      // Loopback is not in the private ranges (the default when the Region names no networks).
      const refused = await LineClient.connect(port, '127.0.0.2', '127.0.0.1');
      assert.ok(await refused.closedWithin(), 'refused');
      assert.deepEqual(refused.received(), []);
      assert.equal(await metric(h, 'meridian_tcp_refused_total', { reason: 'caller' }), 1);
      // The public listener takes anyone.
      const publicClient = await LineClient.connect(port, '127.0.0.1');
      assert.equal(await publicClient.nextLine(), 'hello a');
      publicClient.destroy();

      h.setDocs([tcpService('lines', port), instanceDoc('a', 'lines', a.port), region(['127.0.0.0/8'])]);
      await h.gateway.tcp.settled();
      const taken = await LineClient.connect(port, '127.0.0.2', '127.0.0.1');
      taken.send('from a workload');
      assert.equal(await taken.nextLine(), 'hello a');
      assert.equal(await taken.nextLine(), 'a: from a workload');
      taken.destroy();
      assert.equal(await metric(h, 'meridian_tcp_refused_total', { reason: 'caller' }), 1);
    } finally {
      await h.stop();
      await a.close();
    }
  });
});

describe('TCP across regions: edge -> ingress (mutual TLS) -> instance', () => {
  const iad = (port: number, services: Record<string, number>): RemoteRegion => ({
    name: 'iad',
    latitude: 38.95,
    longitude: -77.45,
    ingressAddress: `127.0.0.1:${port}`,
    reachable: true,
    rttMs: 5,
    services: new Map(Object.entries(services).map(([s, healthy]) => [s, { healthy, total: healthy, load: 0 }])),
  });
  let mtls: ReturnType<typeof mtlsPair>;
  let instance: LineEcho;
  let ingress: Harness;
  let edge: Harness;
  let port: number;
  const edgeDocs = () => [tcpService('lines', port), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];

  before(async () => {
    mtls = mtlsPair();
    instance = await LineEcho.start('iad-1');
    port = await freePort();
    ingress = await startGateway([tcpService('lines', port), instanceDoc('iad-1', 'lines', instance.port)], { ...mtls.ingressOptions, region: 'iad', name: 'iad-ingress', admin });
    edge = await startGateway(edgeDocs(), { region: 'fra', name: 'fra-edge', meshTls: mtls.edgeMeshTls, admin });
    edge.source.set({ ...viewOf(edgeDocs(), 'fra'), remoteRegions: new Map([['iad', iad(ingress.httpsPort, { lines: 1 })]]) });
    await edge.gateway.tcp.settled();
  });
  after(async () => {
    await edge.stop();
    await ingress.stop();
    await instance.close();
    mtls.remove();
  });

  it('reaches the remote instance through the ingress when no local instance is there', async () => {
    const c = await LineClient.connect(port);
    try {
      await checkBothWays(c, 'iad-1');
      assert.equal(await metric(edge, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'iad', outcome: 'connected' }), 1);
      assert.equal(await metric(ingress, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'iad', outcome: 'connected' }), 1);
      assert.ok((await metric(ingress, 'meridian_tcp_bytes_total', { service: 'lines', port: 'lines', direction: 'in' })) > 300 * 1024);
    } finally {
      c.destroy();
    }
    await until('the ingress released the connection', () => ingress.gateway.proxy.inFlight === 0);
  });

  it("passes a client's half-close through the ingress", async () => {
    const c = await LineClient.connect(port);
    c.send('last words');
    c.socket.end();
    assert.equal(await c.nextLine(), 'hello iad-1');
    assert.equal(await c.nextLine(), 'iad-1: last words');
    assert.ok(await c.closedWithin(), 'closed after the instance closed its side');
  });

  it('a local instance, once there, is preferred, once there, is preferred', async () => {
    const local = await LineEcho.start('fra-1');
    try {
      edge.source.set({ ...viewOf([...edgeDocs(), instanceDoc('fra-1', 'lines', local.port)], 'fra'), remoteRegions: new Map([['iad', iad(ingress.httpsPort, { lines: 1 })]]) });
      const c = await LineClient.connect(port);
      assert.equal(await c.nextLine(), 'hello fra-1');
      c.destroy();
      // The local instance goes away without the view knowing: its connect is refused, the remote region serves.
      await local.close();
      const d = await LineClient.connect(port);
      assert.equal(await d.nextLine(), 'hello iad-1');
      d.destroy();
    } finally {
      edge.source.set({ ...viewOf(edgeDocs(), 'fra'), remoteRegions: new Map([['iad', iad(ingress.httpsPort, { lines: 1 })]]) });
    }
  });

  it('an ingress answers meridian-tcp on its plain listener with 403, and without an instance with 503', async () => {
    const plain = await startGateway([tcpService('lines', port), instanceDoc('iad-1', 'lines', instance.port)], { mode: 'ingress', region: 'iad', name: 'plain-ingress' });
    try {
      const raw = await rawExchange(plain.port, 'GET / HTTP/1.1\r\nHost: lines.mesh\r\nConnection: Upgrade\r\nUpgrade: meridian-tcp\r\nx-meridian-service: lines\r\nx-meridian-port: lines\r\n\r\n');
      assert.match(raw.data, /^HTTP\/1\.1 403 /);
      assert.match(raw.data, /meridian-tcp is taken only over mesh mTLS/);
    } finally {
      await plain.stop();
    }
    // The edge believes the region has an instance; the ingress has none: the client's connection is closed.
    ingress.setDocs([tcpService('lines', port)]);
    try {
      const c = await LineClient.connect(port);
      assert.ok(await c.closedWithin(), 'closed');
      assert.deepEqual(c.received(), []);
      assert.equal(await metric(ingress, 'meridian_tcp_refused_total', { reason: 'no-target' }), 1);
      assert.equal(await metric(edge, 'meridian_edge_upstream_errors_total', { service: 'lines', region: 'iad', kind: '503' }), 1);
    } finally {
      ingress.setDocs([tcpService('lines', port), instanceDoc('iad-1', 'lines', instance.port)]);
    }
  });
});

describe('TCP: failover to the next region', () => {
  it('goes on to the next region when the nearest one reaches no instance (its ingress answers 503)', async () => {
    const mtls = mtlsPair();
    const instance = await LineEcho.start('sin-1');
    const port = await freePort();
    const svc = tcpService('lines', port);
    // iad believes it has an instance but has none; sin has one.
    const iad = await startGateway([svc], { ...mtls.ingressOptions, region: 'iad', name: 'iad-ingress' });
    const sin = await startGateway([svc, instanceDoc('sin-1', 'lines', instance.port)], { ...mtls.ingressOptions, region: 'sin', name: 'sin-ingress' });
    const docs = [svc];
    const edge = await startGateway(docs, { region: 'fra', name: 'fra-edge', meshTls: mtls.edgeMeshTls, admin });
    const region = (name: string, ingressPort: number, rttMs: number): RemoteRegion => ({
      name,
      latitude: 0,
      longitude: 0,
      ingressAddress: `127.0.0.1:${ingressPort}`,
      reachable: true,
      rttMs,
      services: new Map([['lines', { healthy: 1, total: 1, load: 0 }]]),
    });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', region('iad', iad.httpsPort, 5)], ['sin', region('sin', sin.httpsPort, 150)]]) });
    await edge.gateway.tcp.settled();
    try {
      const c = await LineClient.connect(port);
      c.send('far away');
      assert.equal(await c.nextLine(), 'hello sin-1');
      assert.equal(await c.nextLine(), 'sin-1: far away');
      c.destroy();
      assert.equal(await metric(edge, 'meridian_edge_upstream_errors_total', { service: 'lines', region: 'iad', kind: '503' }), 1, 'the nearer region was tried first');
      assert.equal(await metric(edge, 'meridian_tcp_connect_failovers_total', { service: 'lines', port: 'lines' }), 1);
      assert.equal(await metric(edge, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'sin', outcome: 'connected' }), 1);
    } finally {
      await edge.stop();
      await iad.stop();
      await sin.stop();
      await instance.close();
      mtls.remove();
    }
  });
});
