// `meridian edge --otlp-endpoint`: the spans of sampled requests reach an
// OTLP/HTTP collector (a stand-in on 127.0.0.1), with the same ids as the
// access log and the traceparent the instance received.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OtlpCollectorStub } from '../../test-support/otlp-collector';
import { parentIdOf, traceIdOf } from '../../lib/tracing/traceparent';
import { waitFor } from '../../lib/process/part-process';
import { startEdge, writeConfig, type Running } from '../testing/edge-process';
import { get } from '../testing/http-client';
import { instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';

const CLIENT = '00-7d3e9f20a1b2c3d4e5f60718293a4b5c-0102030405060708-01';

describe('meridian edge --otlp-endpoint', () => {
  const collector = new OtlpCollectorStub();
  let instance: TestUpstream;
  let edge: Running;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-otlp-'));
    const endpoint = await collector.start();
    instance = await TestUpstream.start('echo-1');
    const config = writeConfig(dir, [serviceDoc('echo'), instanceDoc('echo-1', 'echo', instance.port)]);
    edge = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--name', 'edge-otlp', '--access-log-sample', '1', '--otlp-endpoint', endpoint]);
  });
  after(async () => {
    edge?.child.kill('SIGKILL');
    await instance.close();
    await collector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("sends the edge's server span and its call to the instance, linked, within a second or two", async () => {
    const r = await get(edge.port, '/', { host: 'echo.mesh', headers: { traceparent: CLIENT } });
    assert.equal(r.status, 200, r.text);
    const atInstance = String(instance.received.at(-1)!.headers.traceparent);
    const spans = await waitFor('two spans at the collector', () => {
      const mine = collector.spans().filter((s) => s.traceId === traceIdOf(CLIENT));
      return mine.length >= 2 ? mine : undefined;
    }, 5000, 50);
    const server = spans.find((s) => s.name === 'edge')!;
    const call = spans.find((s) => s.name === 'instance call')!;
    assert.equal(server.kind, 2);
    assert.equal(server.parentSpanId, parentIdOf(CLIENT));
    assert.equal(call.kind, 3);
    assert.equal(call.parentSpanId, server.spanId);
    assert.equal(parentIdOf(atInstance), call.spanId, 'the instance saw the call span as its parent');
    assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));
    const resource = collector.posted[0]!.body.resourceSpans[0]!.resource.attributes;
    assert.deepEqual(resource.find((a) => a.key === 'service.name')?.value, { stringValue: 'meridian-edge' });
    assert.deepEqual(resource.find((a) => a.key === 'service.instance.id')?.value, { stringValue: 'edge-otlp' });
    // The access log line of the request names the same span (written within a second).
    const line = await waitFor('the access log line', () =>
      edge.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.trace_id === traceIdOf(CLIENT) && l.span_name === 'edge'),
    3000, 50);
    assert.equal(line.span_id, server.spanId);
  });
});
