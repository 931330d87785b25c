// Trace context through real gateways on loopback: edge (fra) -> ingress
// (iad) -> instance. Each hop keeps the trace, opens its own span, names it
// as parent to the next hop, and logs it; the sampling decision is the
// edge's, and the hops behind it follow it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get } from '../testing/http-client';
import { startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { remoteRegion } from '../testing/remote-region';
import { doc, instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { isValidTraceparent, parentIdOf, traceIdOf } from '../../lib/tracing/traceparent';

type Line = Record<string, unknown>;
const CLIENT_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const linesOf = (h: Harness, traceId: string): Line[] => h.accessLog.lines.filter((l) => l.trace_id === traceId);
// A hop writes its line when its exchange ends, which may be just after the
// client has the whole answer: wait for the lines of a trace.
async function waitLines(h: Harness, traceId: string, count: number): Promise<Line[]> {
  for (const deadline = Date.now() + 3000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    if (linesOf(h, traceId).length >= count) return linesOf(h, traceId);
  }
  return linesOf(h, traceId);
}

describe('trace context: edge -> ingress -> instance', () => {
  let instance: TestUpstream;
  let ingress: Harness;
  let edge: Harness;
  let quietEdge: Harness;

  before(async () => {
    instance = await TestUpstream.start('echo-iad-1');
    ingress = await startGateway([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', instance.port)], { mode: 'ingress', region: 'iad', name: 'ingress-iad' });
    const regions = [doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
    const remote = new Map([['iad', remoteRegion('iad', ingress.port, { echo: 1 })]]);
    edge = await startGateway([serviceDoc('echo'), ...regions], { region: 'fra', name: 'edge-fra' });
    edge.source.set({ ...viewOf([serviceDoc('echo'), ...regions], 'fra'), remoteRegions: remote });
    // An edge that logs no request: its downstream hops must not log either.
    quietEdge = await startGateway([serviceDoc('echo'), ...regions], { region: 'fra', name: 'edge-fra-quiet', accessLogSample: 0 });
    quietEdge.source.set({ ...viewOf([serviceDoc('echo'), ...regions], 'fra'), remoteRegions: remote });
  });
  after(async () => {
    await edge.stop();
    await quietEdge.stop();
    await ingress.stop();
    await instance.close();
  });

  it('keeps the caller trace, and links edge span -> ingress span -> instance call -> the instance', async () => {
    const r = await get(edge.port, '/hello', { host: 'echo.mesh', headers: { traceparent: CLIENT_PARENT } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-meridian-region'], 'iad');
    const atInstance = String(instance.received.at(-1)!.headers.traceparent);
    assert.equal(isValidTraceparent(atInstance), true, atInstance);
    const traceId = traceIdOf(CLIENT_PARENT);
    assert.equal(traceIdOf(atInstance), traceId, 'the instance sees the caller trace');

    const [edgeSpan] = await waitLines(edge, traceId, 1);
    const ingressLines = await waitLines(ingress, traceId, 2);
    const ingressSpan = ingressLines.find((l) => l.span_name === 'ingress');
    const call = ingressLines.find((l) => l.span_name === 'instance call');
    assert.ok(edgeSpan && ingressSpan && call, JSON.stringify({ edgeSpan, ingressLines }));
    assert.equal(edgeSpan.span_name, 'edge');
    assert.equal(edgeSpan.parent_span_id, parentIdOf(CLIENT_PARENT), 'the edge span is the child of the caller');
    assert.equal(ingressSpan.parent_span_id, edgeSpan.span_id, 'the ingress span is the child of the edge span');
    assert.equal(call.parent_span_id, ingressSpan.span_id, 'the call is the child of the ingress span');
    assert.equal(parentIdOf(atInstance), call.span_id, 'the instance is the child of the call');
    assert.equal(new Set([edgeSpan.span_id, ingressSpan.span_id, call.span_id]).size, 3, 'three spans');
    assert.equal(call.instance, 'echo-iad-1');
    assert.equal(call.status, 200);
    for (const l of [edgeSpan, ingressSpan]) {
      assert.equal(l.status, 200);
      assert.equal(typeof l.ms, 'number');
    }
    // Nothing else of the client's header is passed on: each hop sends its own.
    assert.equal(instance.received.at(-1)!.headers.traceparent, atInstance);
  });

  it('starts a trace when the request has none, or an invalid one', async () => {
    for (const headers of [{}, { traceparent: 'ff-not-a-trace' }] as Record<string, string>[]) {
      const r = await get(edge.port, '/', { host: 'echo.mesh', headers });
      assert.equal(r.status, 200, r.text);
      const atInstance = String(instance.received.at(-1)!.headers.traceparent);
      assert.equal(isValidTraceparent(atInstance), true, atInstance);
      const traceId = traceIdOf(atInstance);
      assert.notEqual(traceId, traceIdOf(CLIENT_PARENT));
      const [edgeSpan] = await waitLines(edge, traceId, 1);
      assert.equal(edgeSpan?.parent_span_id, '', 'a new trace: the edge span is its root');
      assert.match(atInstance, /-01$/, 'sampled, as the edge logs every request');
    }
  });

  it('follows the edge: a request the edge does not sample is logged by no hop, whatever the client asked', async () => {
    const unsampled = '00-11111111111111111111111111111111-2222222222222222-01';
    const r = await get(quietEdge.port, '/', { host: 'echo.mesh', headers: { traceparent: unsampled } });
    assert.equal(r.status, 200, r.text);
    const atInstance = String(instance.received.at(-1)!.headers.traceparent);
    assert.equal(traceIdOf(atInstance), traceIdOf(unsampled));
    assert.match(atInstance, /-00$/, 'the edge decides, not the client');
    // A sampled request through the same ingress afterwards is logged; by
    // then the unsampled one would have been too.
    const marker = await get(edge.port, '/', { host: 'echo.mesh' });
    assert.equal(marker.status, 200);
    const markerTrace = traceIdOf(String(instance.received.at(-1)!.headers.traceparent));
    assert.equal((await waitLines(ingress, markerTrace, 2)).length, 2);
    assert.deepEqual(linesOf(ingress, traceIdOf(unsampled)), []);
    assert.deepEqual(linesOf(quietEdge, traceIdOf(unsampled)), []);
  });
});
