// TCP through a relay region, end to end on 127.0.0.1 over mutual TLS: the
// edge in fra reaches iad's instance through sin's ingress while the view
// says fra's tunnel to iad is down (as relay/relay.test.ts does for
// requests). A relay ingress forwards only an upgrade straight from an edge,
// only to a region it reaches directly; one it cannot forward closes the
// client's connection after the edge has nothing left to try.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { findSample, readSamples } from '../../test-support/metric-samples';
import type { EdgeView } from '../config/edge-view';
import { startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { checkBothWays, freePort, LineClient, LineEcho } from '../testing/line-echo';
import { mtlsPair } from '../testing/mtls-pair';
import { remoteRegion } from '../testing/remote-region';
import { doc, instanceDoc, serviceDoc } from '../testing/upstream-server';

const tcpService = (name: string, port: number) => serviceDoc(name, { ports: [{ name: 'lines', port, protocol: 'tcp', public: true }], healthCheck: { type: 'tcp' } });
const admin = { host: '127.0.0.1', port: 0 };

async function metric(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  const a = h.gateway.adminAddress();
  assert.ok(a, 'the gateway has an admin server');
  const res = await fetch(`http://127.0.0.1:${a.port}/metrics`);
  assert.equal(res.status, 200);
  return findSample(readSamples(await res.text()), name, labels)?.value ?? 0;
}

// Waits for a condition the gateways reach on their own (a bound on a hang, not a timing assert).
async function until(what: string, condition: () => boolean | Promise<boolean>, waitMs = 5_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${waitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('TCP through a relay: edge -> relay ingress -> target ingress -> instance', () => {
  let mtls: ReturnType<typeof mtlsPair>;
  let instance: LineEcho;
  let iad: Harness;
  let sin: Harness;
  let edge: Harness;
  let port: number;
  const fraDocs = () => [tcpService('lines', port), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
  // fra's view: iad only through sin.
  const fraView = (): EdgeView => ({
    ...viewOf(fraDocs(), 'fra'),
    remoteRegions: new Map([
      ['iad', remoteRegion('iad', 1, { lines: 1 }, { relayVia: 'sin', relayIngressAddress: `127.0.0.1:${sin.httpsPort}` })],
      ['sin', remoteRegion('sin', sin.httpsPort, {})],
    ]),
  });
  const sinView = (reachesIad: boolean): EdgeView =>
    ({
      ...viewOf([tcpService('lines', port)], 'sin'),
      remoteRegions: reachesIad ? new Map([['iad', remoteRegion('iad', iad.httpsPort, { lines: 1 })]]) : new Map(),
    }) as EdgeView;

  // One meridian-tcp upgrade straight to an ingress with the edge's mesh certificate; what came back until close or the wait.
  const upgradeAt = (ingressPort: number, headers: Record<string, string>, waitMs = 3_000): Promise<string> =>
    new Promise((resolve) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: ingressPort,
        cert: fs.readFileSync(mtls.edgeMeshTls.cert),
        key: fs.readFileSync(mtls.edgeMeshTls.key),
        ca: fs.readFileSync(mtls.edgeMeshTls.ca),
        ALPNProtocols: ['http/1.1'],
      });
      let data = '';
      const done = () => {
        clearTimeout(timer);
        s.destroy();
        resolve(data);
      };
      const timer = setTimeout(done, waitMs);
      s.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        // A 101 and the instance's greeting: enough.
        if (/\r\n\r\nhello /.test(data) && data.endsWith('\n')) done();
      });
      s.on('close', done);
      s.on('error', done);
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(`GET / HTTP/1.1\r\nHost: lines.mesh\r\nConnection: Upgrade\r\nUpgrade: meridian-tcp\r\nx-meridian-service: lines\r\nx-meridian-port: lines\r\n${extra}\r\n`);
    });

  before(async () => {
    mtls = mtlsPair();
    instance = await LineEcho.start('iad-1');
    port = await freePort();
    iad = await startGateway([tcpService('lines', port), instanceDoc('iad-1', 'lines', instance.port)], { ...mtls.ingressOptions, region: 'iad', name: 'iad-ingress', admin });
    // The relay dials iad with the mesh certificate, as an edge does.
    sin = await startGateway([tcpService('lines', port)], { ...mtls.ingressOptions, meshTls: mtls.edgeMeshTls, region: 'sin', name: 'sin-ingress', admin });
    sin.source.set(sinView(true));
    edge = await startGateway(fraDocs(), { region: 'fra', name: 'fra-edge', meshTls: mtls.edgeMeshTls, admin });
    edge.source.set(fraView());
    await edge.gateway.tcp.settled();
  });
  after(async () => {
    await edge.stop();
    await sin.stop();
    await iad.stop();
    await instance.close();
    mtls.remove();
  });

  it("carries bytes both ways between the client and iad's instance through sin", async () => {
    const c = await LineClient.connect(port);
    try {
      await checkBothWays(c, 'iad-1');
      const connected = { service: 'lines', port: 'lines', region: 'iad', outcome: 'connected' };
      assert.equal(await metric(edge, 'meridian_tcp_connections_total', connected), 1, 'the edge: served by iad');
      assert.equal(await metric(sin, 'meridian_tcp_connections_total', connected), 1, 'the relay: served by iad');
      assert.equal(await metric(iad, 'meridian_tcp_connections_total', connected), 1, 'the target served it locally');
      assert.ok((await metric(sin, 'meridian_tcp_bytes_total', { service: 'lines', port: 'lines', direction: 'in' })) > 300 * 1024, 'the bytes passed the relay');
    } finally {
      c.destroy();
    }
    await until('the relay and the target released the connection', () => sin.gateway.proxy.inFlight === 0 && iad.gateway.proxy.inFlight === 0);
  });

  it("passes a client's half-close through the relay", async () => {
    const c = await LineClient.connect(port);
    c.send('last words');
    c.socket.end();
    assert.equal(await c.nextLine(), 'hello iad-1');
    assert.equal(await c.nextLine(), 'iad-1: last words');
    assert.ok(await c.closedWithin(), 'closed after the instance closed its side');
  });

  it('the relay forwards only what comes straight from an edge, and serves a target naming its own region locally', async () => {
    const looped = await upgradeAt(sin.httpsPort, { 'x-meridian-hop': '2', 'x-meridian-target-region': 'iad' });
    assert.match(looped, /^HTTP\/1\.1 508 /);
    const unknown = await upgradeAt(sin.httpsPort, { 'x-meridian-hop': '1', 'x-meridian-target-region': 'syd' });
    assert.match(unknown, /^HTTP\/1\.1 502 /);
    assert.match(unknown, /does not reach it directly/);
    assert.equal(await metric(sin, 'meridian_tcp_refused_total', { reason: 'relay' }), 2);
    // iad is the target and the ingress: its own instance.
    const own = await upgradeAt(iad.httpsPort, { 'x-meridian-hop': '1', 'x-meridian-target-region': 'iad' });
    assert.match(own, /^HTTP\/1\.1 101 /);
    assert.match(own, /x-meridian-region: iad\r\n/i);
    assert.match(own, /\r\n\r\nhello iad-1\n/);
  });

  it('a target the relay cannot reach: the relay refuses, the edge has no other region and closes the client cleanly', async () => {
    sin.source.set(sinView(false));
    const refusedBefore = await metric(sin, 'meridian_tcp_refused_total', { reason: 'relay' });
    const errorsBefore = await metric(edge, 'meridian_edge_upstream_errors_total', { service: 'lines', region: 'iad', kind: '502' });
    try {
      const c = await LineClient.connect(port);
      c.send('anyone there?');
      assert.ok(await c.closedWithin(), 'closed');
      assert.deepEqual(c.received(), []);
      assert.equal(await metric(sin, 'meridian_tcp_refused_total', { reason: 'relay' }), refusedBefore + 1);
      assert.equal(await metric(edge, 'meridian_edge_upstream_errors_total', { service: 'lines', region: 'iad', kind: '502' }), errorsBefore + 1);
    } finally {
      sin.source.set(sinView(true));
    }
  });

  it("a target whose ingress cannot be connected: the relay answers 502 and the edge fails over to a region it reaches directly", async () => {
    // sin still lists iad, but at an address nothing listens on; osl, farther, has the service.
    const oslInstance = await LineEcho.start('osl-1');
    const osl = await startGateway([tcpService('lines', port), instanceDoc('osl-1', 'lines', oslInstance.port)], { ...mtls.ingressOptions, region: 'osl', name: 'osl-ingress' });
    const dead = await freePort();
    sin.source.set({ ...sinView(false), remoteRegions: new Map([['iad', remoteRegion('iad', dead, { lines: 1 })]]) } as EdgeView);
    const base = fraView();
    edge.source.set({ ...base, remoteRegions: new Map([...base.remoteRegions, ['osl', remoteRegion('osl', osl.httpsPort, { lines: 1 }, { rttMs: 300 })]]) });
    const failedBefore = await metric(sin, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'iad', outcome: 'connect-failed' });
    try {
      const c = await LineClient.connect(port);
      c.send('elsewhere');
      assert.equal(await c.nextLine(), 'hello osl-1');
      assert.equal(await c.nextLine(), 'osl-1: elsewhere');
      c.destroy();
      assert.equal(await metric(sin, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'iad', outcome: 'connect-failed' }), failedBefore + 1, 'the relay tried iad');
      assert.ok((await metric(edge, 'meridian_tcp_connect_failovers_total', { service: 'lines', port: 'lines' })) >= 1);
    } finally {
      edge.source.set(fraView());
      sin.source.set(sinView(true));
      await osl.stop();
      await oslInstance.close();
    }
  });
});
