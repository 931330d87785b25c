// A remote region's path dies silently (a tunnel that drops packets, no reset,
// as bench/failover's "WireGuard dropped"): the GETs caught on it are checked
// after REMOTE_PATH_CHECK_MS, failed and retried once the region's path moved
// (a relay) or answers again, on a fresh connection, never on the hung HTTP/2
// session. Real gateways, mTLS with HTTP/2 between edge and ingresses, and a
// TCP path on 127.0.0.1 that can freeze: open connections go silent, new
// ones hang in their handshake (testing/freezable-path.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EdgeView } from '../config/edge-view';
import { FreezablePath } from '../testing/freezable-path';
import { get, type TestResponse } from '../testing/http-client';
import { mtlsPair, type MtlsPair } from '../testing/mtls-pair';
import { startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { remoteRegion } from '../testing/remote-region';
import { doc, instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { REMOTE_PATH_CHECK_MS } from './dispatch-attempt';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metric(h: Harness, name: string, labels: string): Promise<number> {
  const text = await h.gateway.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && l.includes(labels));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function timed(ask: Promise<TestResponse>): Promise<{ r: TestResponse; ms: number }> {
  const t0 = performance.now();
  const r = await ask;
  return { r, ms: Math.round(performance.now() - t0) };
}

describe('a dead path to a remote ingress', () => {
  const service = 'only-iad';
  const docs = [serviceDoc(service), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
  let pair: MtlsPair;
  let instance: TestUpstream;
  let iad: Harness;
  let sin: Harness;

  before(async () => {
    pair = mtlsPair();
    instance = await TestUpstream.start('only-iad-1');
    iad = await startGateway([serviceDoc(service), instanceDoc('only-iad-1', service, instance.port)], { ...pair.ingressOptions, region: 'iad', name: 'ingress-iad' });
    // sin relays to iad (directly, as its own view says).
    sin = await startGateway([serviceDoc(service)], { ...pair.ingressOptions, region: 'sin', name: 'ingress-sin', meshTls: pair.edgeMeshTls });
    sin.source.set({ ...viewOf([serviceDoc(service)], 'sin'), remoteRegions: new Map([['iad', remoteRegion('iad', iad.httpsPort, { [service]: 1 })]]) } as EdgeView);
  });
  after(async () => {
    await sin.stop();
    await iad.stop();
    await instance.close();
    pair.remove();
  });

  // An edge in fra that reaches iad over a freezable path (direct), or
  // through sin once relayed() says so, for the time of `body`.
  async function withEdge(body: (e: { edge: Harness; path: FreezablePath; relayed(): void }) => Promise<void>): Promise<void> {
    const path = await FreezablePath.start(iad.httpsPort);
    const edge = await startGateway(docs, { region: 'fra', name: 'edge-fra', meshTls: pair.edgeMeshTls });
    const set = (iadEntry: ReturnType<typeof remoteRegion>) =>
      edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', iadEntry], ['sin', remoteRegion('sin', sin.httpsPort, {})]]) });
    set(remoteRegion('iad', path.port, { [service]: 1 }));
    const relayed = () => set(remoteRegion('iad', path.port, { [service]: 1 }, { relayVia: 'sin', relayIngressAddress: `127.0.0.1:${sin.httpsPort}`, rttMs: 10 }));
    try {
      await body({ edge, path, relayed });
    } finally {
      await edge.stop();
      await path.close();
    }
  }

  const ask = (edge: Harness) => get(edge.port, '/', { host: `${service}.mesh`, timeoutMs: 10_000 });

  // A few GETs over the path (its HTTP/2 session up), then it freezes and
  // one more GET goes out: caught on it.
  async function catchOne(edge: Harness, path: FreezablePath): Promise<{ r: TestResponse; ms: number }> {
    for (let i = 0; i < 3; i++) assert.equal((await ask(edge)).status, 200);
    await path.freeze();
    return timed(ask(edge));
  }

  // Resolves once the edge has found the path dead for a try caught on it.
  async function pathFoundDead(edge: Harness): Promise<void> {
    const deadline = Date.now() + 30_000;
    while ((await metric(edge, 'meridian_edge_upstream_errors_total', 'kind="timeout"')) < 1) {
      assert.ok(Date.now() < deadline, 'the edge never found the path dead');
      await sleep(25);
    }
  }

  it('a GET caught on it is retried through the relay once the view moves the region there', (t) =>
    withEdge(async ({ edge, path, relayed }) => {
      const relayedBefore = sin.accessLog.lines.length;
      let answered = false;
      const caught = catchOne(edge, path).finally(() => (answered = true));
      // The zone's probes move iad to the relay some time after the edge
      // found the path dead; until then the GET waits.
      await pathFoundDead(edge);
      await sleep(REMOTE_PATH_CHECK_MS);
      assert.equal(answered, false, 'the caught GET waits for the view to move iad');
      relayed();
      const { r, ms } = await caught;
      t.diagnostic(`GET caught on the dead path: ${r.status} from ${String(r.headers['x-meridian-region'])} after ${ms} ms`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-meridian-region'], 'iad');
      assert.ok(sin.accessLog.lines.length > relayedBefore, 'the retry went through ingress-sin');
      assert.equal(await metric(edge, 'meridian_edge_upstream_errors_total', 'kind="timeout"'), 1, 'one try failed on the dead path');
      assert.equal(await metric(edge, 'meridian_edge_retries_total', `service="${service}"`), 1);
      // The dead path did not count against iad's circuit: later GETs pass.
      for (let i = 0; i < 3; i++) assert.equal((await ask(edge)).status, 200);
    }));

  it('the retry does not ride the hung HTTP/2 session: a new connection once the path answers again', (t) =>
    withEdge(async ({ edge, path }) => {
      const caught = catchOne(edge, path);
      // Healed once the edge has found the path dead (not before: a check
      // still waiting for its handshake when the path heals finds it alive,
      // and the try waits on as on a slow service), with no view change;
      // the old session stays hung.
      await pathFoundDead(edge);
      const connections = path.accepted;
      await path.thaw();
      const { r, ms } = await caught;
      const next = await timed(ask(edge));
      t.diagnostic(`GET caught on the dead path: ${r.status} after ${ms} ms, direct on a new connection; the next GET ${next.ms} ms; connections ${connections} before, ${path.accepted} after`);
      assert.equal(r.status, 200, r.text);
      assert.ok(path.accepted > connections, 'a new connection after the path came back');
      assert.equal(next.r.status, 200);
      // On the hung session the next GET would have been failed or retried.
      assert.equal(await metric(edge, 'meridian_edge_upstream_errors_total', 'kind="timeout"'), 1, 'the next GET did not queue on the hung session');
      assert.equal(await metric(edge, 'meridian_edge_retries_total', `service="${service}"`), 1);
    }));

  it('a slow answer on a live path is waited for, not retried', (t) =>
    withEdge(async ({ edge }) => {
      instance.delayMs = 3 * REMOTE_PATH_CHECK_MS;
      try {
        const { r, ms } = await timed(ask(edge));
        t.diagnostic(`slow GET over a live path: ${r.status} after ${ms} ms`);
        assert.equal(r.status, 200, r.text);
        assert.ok(ms >= 3 * REMOTE_PATH_CHECK_MS);
        assert.equal(await metric(edge, 'meridian_edge_retries_total', `service="${service}"`), 0);
        assert.equal(await metric(edge, 'meridian_edge_upstream_errors_total', 'kind="timeout"'), 0);
      } finally {
        instance.delayMs = 0;
      }
    }));
});
