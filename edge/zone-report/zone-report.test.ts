// Reports to the zone: the 10 s window computed from the edge's own
// counters, and the Report calls a zone controller receives (a small gRPC
// server standing in for it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import { createRegistry } from '../../lib/observability/metrics';
import { silentLogger } from '../../lib/observability/logger';
import type { ProxyReport__Output } from '../../proto/generated/meridian/discovery/v1/ProxyReport';
import { EdgeMetrics } from '../observability/edge-metrics';
import { quantileMs, TrafficWindow } from './traffic-window';
import { ZoneReporter } from './zone-reporter';

describe('zone report: traffic window', () => {
  it('p99 interpolated inside its bucket, over the difference of two samples', () => {
    const before = new Map([[0.01, 10], [0.1, 10], [Infinity, 10]]);
    // 100 new observations: 90 under 10 ms, 10 between 10 and 100 ms.
    const after = new Map([[0.01, 100], [0.1, 110], [Infinity, 110]]);
    assert.equal(Math.round(quantileMs(before, after, 0.99)), 91);
    assert.equal(quantileMs(after, after, 0.99), 0, 'no observations');
  });

  it('rates and errors from the request counters', async () => {
    const metrics = new EdgeMetrics(createRegistry('edge', false));
    const w = new TrafficWindow(metrics);
    await w.sample(0);
    const echo = metrics.forService('echo').region('fra');
    for (let i = 0; i < 18; i++) {
      echo.countRequest(200);
      echo.duration.observe(0.004);
    }
    echo.countRequest(503);
    echo.countRequest(502);
    await w.sample(2000);
    const f = w.figures();
    assert.equal(f.requestRate, 10);
    assert.equal(f.errorRate, 0.1);
    assert.ok(f.p99Ms > 2.5 && f.p99Ms <= 5, `p99 ${f.p99Ms}`);
  });
});

describe('zone report: Discovery.Report', () => {
  it('reports every interval and at once on a nudge, with in-flight per service', async () => {
    const got: ProxyReport__Output[] = [];
    const server = new grpc.Server();
    server.addService(discoveryProto().meridian.discovery.v1.Discovery.service, {
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
      Report: (call: grpc.ServerUnaryCall<ProxyReport__Output, object>, cb: grpc.sendUnaryData<object>) => {
        got.push(call.request);
        cb(null, {});
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const metrics = new EdgeMetrics(createRegistry('edge', false));
    metrics.forService('echo').inFlight.inc(3);
    let announcing = true;
    let mesh = ['10.1.0.5', 'fd00::5'];
    const reporter = new ZoneReporter({
      address: `127.0.0.1:${port}`,
      proxy: 'edge-fra',
      mode: 'edge',
      metrics,
      healthy: () => true,
      announcing: () => announcing,
      meshAddresses: () => mesh,
      logger: silentLogger(),
      intervalMs: 200,
    });
    try {
      reporter.start();
      const deadline = Date.now() + 5000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(got.length >= 2, 'reports on the interval');
      assert.equal(got[0]!.proxy, 'edge-fra');
      assert.equal(got[0]!.mode, 'edge');
      assert.equal(got[0]!.announcing, true);
      assert.deepEqual(got[0]!.inFlight, { echo: 3 });
      assert.deepEqual(got[0]!.meshAddresses, ['10.1.0.5', 'fd00::5'], 'the mesh listener addresses, for the zone DNS');
      announcing = false;
      // Draining: the gateway has no mesh addresses any more.
      mesh = [];
      const n = got.length;
      reporter.nudge();
      while (got.length === n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(got.at(-1)!.announcing, false);
      assert.deepEqual(got.at(-1)!.meshAddresses, []);
    } finally {
      reporter.close();
      server.forceShutdown();
    }
  });
});
