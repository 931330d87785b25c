// The OTLP/HTTP exporter against a collector stand-in on 127.0.0.1: what it
// posts, how it batches, and what it does when the collector fails.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OtlpExporter, otlpTracesUrl, type ExportedSpan } from './otlp-exporter';
import { OtlpCollectorStub } from '../../test-support/otlp-collector';

const span = (n: number, status = 200): ExportedSpan => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: `b7ad6b71692033${String(n).padStart(2, '0')}`,
  parentSpanId: n === 0 ? '' : 'b7ad6b7169203300',
  name: n === 0 ? 'edge' : 'instance call',
  kind: n === 0 ? 'server' : 'client',
  startMs: 1_795_000_000_000.5,
  durationMs: 12.25,
  status,
  attributes: { 'meridian.service': 'echo', 'meridian.tries': 1 },
});

describe('OTLP/HTTP exporter', () => {
  const collector = new OtlpCollectorStub();
  const posted = collector.posted;
  let endpoint = '';

  before(async () => {
    endpoint = await collector.start();
  });
  after(() => collector.close());

  it('posts JSON to /v1/traces: the resource, hex ids, kinds, nanosecond times, attributes and error status', async () => {
    posted.length = 0;
    const exporter = new OtlpExporter({ endpoint, serviceName: 'meridian-edge', resource: { 'meridian.zone': 'fra' }, flushEveryMs: 60_000 });
    exporter.add(span(0));
    exporter.add(span(1, 503));
    await exporter.stop();
    assert.equal(posted.length, 1);
    assert.equal(posted[0]!.url, '/v1/traces');
    assert.equal(posted[0]!.contentType, 'application/json');
    const rs = posted[0]!.body.resourceSpans[0]!;
    assert.deepEqual(rs.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'meridian-edge' } },
      { key: 'meridian.zone', value: { stringValue: 'fra' } },
    ]);
    const [root, call] = rs.scopeSpans[0]!.spans;
    assert.equal(root!.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(root!.parentSpanId, undefined, 'a root span has no parent');
    assert.equal(root!.kind, 2, 'server');
    assert.equal(root!.startTimeUnixNano, '1795000000000500000');
    assert.equal(root!.endTimeUnixNano, '1795000000012750000');
    assert.deepEqual(root!.status, {});
    assert.deepEqual(root!.attributes, [
      { key: 'meridian.service', value: { stringValue: 'echo' } },
      { key: 'meridian.tries', value: { intValue: '1' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
    ]);
    assert.equal(call!.parentSpanId, 'b7ad6b7169203300');
    assert.equal(call!.kind, 3, 'client');
    assert.deepEqual(call!.status, { code: 2 }, 'a 503 is an error');
    assert.equal(exporter.exported, 2);
  });

  it('sends full batches at once, and drops (and counts) what a failing collector refused or a full queue cannot hold', async () => {
    posted.length = 0;
    const errors: string[] = [];
    const exporter = new OtlpExporter({ endpoint: `${endpoint}/`, serviceName: 's', maxBatch: 3, maxQueue: 4, flushEveryMs: 60_000, onError: (m) => errors.push(m) });
    for (let i = 0; i < 3; i++) exporter.add(span(i));
    await exporter.flush();
    assert.equal(posted.length, 1, 'a full batch went out');
    assert.equal(posted[0]!.url, '/v1/traces', 'a trailing slash is not doubled');

    collector.answer = 500;
    exporter.add(span(5));
    await exporter.flush();
    assert.equal(exporter.dropped, 1);
    assert.match(errors[0]!, /OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed, 1 spans dropped: the collector answered 500/);
    collector.answer = 200;

    // A queue of 4 while nothing is flushed: the fifth and sixth are dropped.
    const slow = new OtlpExporter({ endpoint, serviceName: 's', maxBatch: 100, maxQueue: 4, flushEveryMs: 60_000 });
    for (let i = 0; i < 6; i++) slow.add(span(i));
    assert.equal(slow.dropped, 2);
    await slow.stop();
    assert.equal(slow.exported, 4);
    await exporter.stop();
  });

  it('refuses an endpoint that is not an http(s) URL, saying why', () => {
    assert.throws(() => otlpTracesUrl('collector:4318'), /only http and https are supported/);
    assert.throws(() => otlpTracesUrl('not a url'), /'not a url' is not a URL \(expected http:\/\/HOST:PORT of an OTLP\/HTTP collector\)/);
    assert.equal(otlpTracesUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
    assert.equal(otlpTracesUrl('https://otel.example.com/otlp/'), 'https://otel.example.com/otlp/v1/traces');
  });
});
