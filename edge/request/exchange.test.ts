// Retries, timeouts and bodies through a real gateway and real upstreams.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { Client } from 'undici';
import { get } from '../testing/http-client';
import { startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { remoteRegion } from '../testing/remote-region';
import { doc, instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { freePort } from '../../lib/process/free-port';

function metric(h: Harness, text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && l.includes(labels));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function metricsText(h: Harness): Promise<string> {
  return h.gateway.metrics.registry.metrics();
}


const fail503 = (_req: unknown, res: import('node:http').ServerResponse) => {
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.end('busy');
  return true;
};

describe('retries', () => {
  let good: TestUpstream;
  let bad: TestUpstream;
  let h: Harness;

  before(async () => {
    good = await TestUpstream.start('good');
    bad = await TestUpstream.start('bad');
    bad.behaviour = fail503;
    // Slower than the fast 503s, so the balancer tries the bad one early.
    good.delayMs = 20;
    h = await startGateway([
      serviceDoc('echo'),
      // Outlier detection off so the 503 instance keeps being picked.
      doc('ResiliencePolicy', 'echo', { service: 'echo', outlierDetection: { consecutiveFailures: 1000 }, retries: { budgetPercent: 100 } }),
      instanceDoc('good', 'echo', good.port),
      instanceDoc('bad', 'echo', bad.port),
    ]);
  });
  after(async () => {
    await h.stop();
    await good.close();
    await bad.close();
  });

  it('retries a 503 of an idempotent request on another instance', async () => {
    for (let i = 0; i < 30; i++) {
      const r = await get(h.port, '/', { host: 'echo.mesh' });
      assert.equal(r.status, 200);
      assert.equal(r.json().name, 'good');
    }
    assert.ok(bad.received.length > 0, 'the 503 instance was tried');
    const text = await metricsText(h);
    assert.equal(metric(h, text, 'meridian_edge_retries_total', 'service="echo"'), bad.received.length);
    assert.equal(metric(h, text, 'meridian_edge_upstream_errors_total', 'kind="503"'), bad.received.length);
  });

  it('does not retry a POST without idempotency-key; retries a GET, and a POST with one (body included)', async () => {
    const only = await TestUpstream.start('only-bad');
    only.behaviour = fail503;
    const h2 = await startGateway([
      serviceDoc('echo'),
      doc('ResiliencePolicy', 'echo', { service: 'echo', retries: { attempts: 2 }, outlierDetection: { consecutiveFailures: 1000 } }),
      instanceDoc('only-bad', 'echo', only.port),
    ]);
    try {
      const post = await get(h2.port, '/', { host: 'echo.mesh', method: 'POST', body: 'n=1' });
      assert.equal(post.status, 503);
      assert.equal(post.text, 'busy', "the instance's own 503 is passed through");
      assert.equal(only.received.length, 1, 'one try for a POST');

      only.received.length = 0;
      assert.equal((await get(h2.port, '/', { host: 'echo.mesh' })).status, 503);
      assert.equal(only.received.length, 3, 'a GET is tried 1 + attempts times (the same instance when it is the only one)');

      only.received.length = 0;
      const keyed = await get(h2.port, '/', { host: 'echo.mesh', method: 'POST', body: 'k=7', headers: { 'idempotency-key': 'abc' } });
      assert.equal(keyed.status, 503);
      assert.equal(only.received.length, 3);
      for (const r of only.received) assert.equal(r.body, 'k=7', 'the buffered body goes with every try');
    } finally {
      await h2.stop();
      await only.close();
    }
  });

  it('retries a connect failure, for a POST too', async () => {
    const dead = await freePort();
    const g = await TestUpstream.start('alive');
    g.delayMs = 20; // slower than the default estimate, so the dead one gets tried
    const h2 = await startGateway([serviceDoc('echo'), instanceDoc('dead', 'echo', dead), instanceDoc('alive', 'echo', g.port)]);
    try {
      for (let i = 0; i < 20; i++) {
        const r = await get(h2.port, '/', { host: 'echo.mesh', method: i % 2 ? 'POST' : 'GET', body: i % 2 ? 'x' : undefined });
        assert.equal(r.status, 200);
        assert.equal(r.json().name, 'alive');
      }
      const text = await metricsText(h2);
      assert.ok(metric(h2, text, 'meridian_edge_upstream_errors_total', 'kind="connect-failure"') >= 1);
      assert.ok(metric(h2, text, 'meridian_edge_ejections_total', 'service="echo"') <= 1);
    } finally {
      await h2.stop();
      await g.close();
    }
  });

  it('never retries once response bytes went to the client', async () => {
    const partial = await TestUpstream.start('partial');
    partial.behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('first part...');
      setTimeout(() => res.socket?.destroy(), 50);
      return true;
    };
    const other = await TestUpstream.start('other');
    const h2 = await startGateway([serviceDoc('echo'), instanceDoc('partial', 'echo', partial.port)]);
    try {
      await assert.rejects(get(h2.port, '/', { host: 'echo.mesh' }), 'the client sees a broken response');
      assert.equal(partial.received.length, 1);
      assert.equal(other.received.length, 0);
      const r = await get(h2.port, '/healthz-of-gateway', { host: 'nope' });
      assert.equal(r.status, 404, 'the gateway goes on serving');
    } finally {
      await h2.stop();
      await partial.close();
      await other.close();
    }
  });

  it('a retry budget stops a retry storm', async () => {
    const a = await TestUpstream.start('a');
    const b = await TestUpstream.start('b');
    a.behaviour = fail503;
    b.behaviour = fail503;
    const h2 = await startGateway([
      serviceDoc('echo'),
      doc('ResiliencePolicy', 'echo', { service: 'echo', retries: { attempts: 3, budgetPercent: 20 }, outlierDetection: { consecutiveFailures: 1000 }, circuitBreaker: { consecutiveFailures: 100000 } }),
      instanceDoc('a', 'echo', a.port),
      instanceDoc('b', 'echo', b.port),
    ]);
    try {
      const n = 100;
      for (let i = 0; i < n; i++) assert.equal((await get(h2.port, '/', { host: 'echo.mesh' })).status, 503);
      const tries = a.received.length + b.received.length;
      // Without a budget: 4 tries each. With it: 20% of 100 plus the minimum of 10.
      assert.ok(tries <= n + 30, `${tries} tries for ${n} requests`);
      assert.ok(tries >= n + 10, `the minimum retries were used (${tries})`);
    } finally {
      await h2.stop();
      await a.close();
      await b.close();
    }
  });
});

describe('timeouts and bodies', () => {
  it('a per-try timeout moves a slow try to another instance; the request timeout answers 504', async (t) => {
    const slow = await TestUpstream.start('slow');
    const fast = await TestUpstream.start('fast');
    slow.delayMs = 2_000;
    const h = await startGateway([
      serviceDoc('echo', { limits: { requestTimeout: '1500ms' } }),
      doc('ResiliencePolicy', 'echo', { service: 'echo', retries: { perTryTimeout: '150ms' } }),
      instanceDoc('slow', 'echo', slow.port),
      instanceDoc('fast', 'echo', fast.port),
      serviceDoc('stuck', { limits: { requestTimeout: '300ms' } }),
      instanceDoc('stuck-1', 'stuck', slow.port),
    ]);
    try {
      // slow answers after 2 s, past the request timeout of 1.5 s: a 200
      // from fast is a try that the per-try timeout moved.
      for (let i = 0; i < 6; i++) {
        const t0 = Date.now();
        const r = await get(h.port, '/', { host: 'echo.mesh' });
        t.diagnostic(`request ${i}: ${r.status} in ${Date.now() - t0} ms`);
        assert.equal(r.status, 200);
        assert.equal(r.json().name, 'fast');
      }
      const r = await get(h.port, '/', { host: 'stuck.mesh' });
      assert.equal(r.status, 504);
      assert.equal(r.text, 'upstream timed out after 300 ms\n');
    } finally {
      await h.stop();
      await slow.close();
      await fast.close();
    }
  });

  it('refuses bodies over maxRequestBodyBytes with 413, by Content-Length and while streaming', async () => {
    const u = await TestUpstream.start('u');
    const h = await startGateway([serviceDoc('echo', { limits: { maxRequestBodyBytes: 100_000 } }), instanceDoc('u', 'echo', u.port)]);
    try {
      const big = Buffer.alloc(100_001, 'a');
      const r = await get(h.port, '/', { host: 'echo.mesh', method: 'PUT', body: big });
      assert.equal(r.status, 413);
      assert.match(r.text, /exceeds the limit of 100000 bytes for service 'echo'/);

      // Chunked (no Content-Length): refused while streaming.
      const client = new Client(`http://127.0.0.1:${h.port}`);
      const chunks = async function* () {
        for (let i = 0; i < 20; i++) yield Buffer.alloc(10_000, 'b');
      };
      const res = await client.request({ path: '/', method: 'POST', headers: { host: 'echo.mesh' }, body: Readable.from(chunks()) }).catch((err: Error) => err);
      if (!(res instanceof Error)) {
        assert.equal(res.statusCode, 413);
        await res.body.text();
      }
      await client.close().catch(() => undefined);

      // A chunked body past the replayable size but under the limit is streamed on whole.
      const client2 = new Client(`http://127.0.0.1:${h.port}`);
      const some = async function* () {
        for (let i = 0; i < 9; i++) yield Buffer.alloc(10_000, 'd');
      };
      const streamed = await client2.request({ path: '/', method: 'POST', headers: { host: 'echo.mesh' }, body: Readable.from(some()) });
      assert.equal(streamed.statusCode, 200);
      assert.equal(((await streamed.body.json()) as { body: string }).body, 'd'.repeat(90_000));
      await client2.close();

      // A streamed body under the limit arrives whole.
      const ok = await get(h.port, '/', { host: 'echo.mesh', method: 'PUT', body: Buffer.alloc(90_000, 'c') });
      assert.equal(ok.status, 200);
      assert.equal(ok.json<{ body: string }>().body.length, 90_000);
      assert.ok(u.received.every((x) => x.body.length <= 100_000));
    } finally {
      await h.stop();
      await u.close();
    }
  });
});

// bench/failover's case: fra's two instances SIGKILLed under a stream of GETs
// (a fresh connection every 20 ms). A fresh stream gives the retry budget
// little to go on (10 + 50% of a few requests), and each request spends two
// retries on the dead local instances before outlier ejection and the circuit
// catch up: were connect failures bound by the budget, it would run dry and
// the client would get the edge's own "502 upstream connect-failure ... (1
// try)" although iad is healthy.
describe('failover: the local instances die under a stream of requests', () => {
  it('retries every connect failure in the next region, whatever the retry budget has left', async () => {
    const iadInstance = await TestUpstream.start('echo-iad-1');
    const iad = await startGateway([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', iadInstance.port)], { mode: 'ingress', region: 'iad', name: 'iad-ingress' });
    const fra1 = await TestUpstream.start('echo-fra-1');
    const fra2 = await TestUpstream.start('echo-fra-2');
    // As the lab: lab-resources.ts's policy and failover order.
    const docs = [
      serviceDoc('echo'),
      doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } }),
      doc('FailoverPolicy', 'echo', { service: 'echo', rules: [{ from: 'fra', regions: ['fra', 'iad', 'sin'] }] }),
      doc('ResiliencePolicy', 'lab', { service: '*', retries: { attempts: 2, budgetPercent: 50 } }),
      instanceDoc('echo-fra-1', 'echo', fra1.port),
      instanceDoc('echo-fra-2', 'echo', fra2.port),
    ];
    const edge = await startGateway(docs, { region: 'fra', name: 'edge-fra' });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', remoteRegion('iad', iad.port, { echo: 2 })]]) });
    // One fresh connection per request, as the bench's prober.
    const ask = async () => {
      const client = new Client(`http://127.0.0.1:${edge.port}`);
      try {
        return await get(edge.port, '/', { host: 'echo.mesh', dispatcher: client });
      } finally {
        await client.close().catch(() => undefined);
      }
    };
    try {
      for (let i = 0; i < 3; i++) assert.equal((await ask()).headers['x-meridian-region'], 'fra');
      // Both die; the (static) view still has them healthy, as a zone's does
      // until its checks catch up.
      await fra1.kill();
      await fra2.kill();
      const failures: string[] = [];
      const regions = new Map<string, number>();
      const n = 40;
      for (let i = 0; i < n; i++) {
        const r = await ask();
        if (r.status !== 200) failures.push(`#${i} ${r.status} ${r.text.trim()}`);
        const region = String(r.headers['x-meridian-region'] ?? 'none');
        regions.set(region, (regions.get(region) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const text = await metricsText(edge);
      console.log(
        `${n} GETs after the kill: ${failures.length} failed; served by ${JSON.stringify(Object.fromEntries(regions))}; ` +
          `retries ${metric(edge, text, 'meridian_edge_retries_total', 'service="echo"')}, ` +
          `connect failures ${metric(edge, text, 'meridian_edge_upstream_errors_total', 'kind="connect-failure"')}`,
      );
      assert.deepEqual(failures, [], 'every GET is answered by iad once fra refuses connections');
      assert.equal(regions.get('iad'), n);
    } finally {
      await edge.stop();
      await iad.stop();
      await iadInstance.close();
      await fra1.close().catch(() => undefined);
      await fra2.close().catch(() => undefined);
    }
  });
});
