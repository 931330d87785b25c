import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry, prom } from '../lib/observability/metrics';
import { assertPromtoolAccepts } from './promtool';

describe('assertPromtoolAccepts', () => {
  it("accepts a part's registry with prom-client's default metrics", async () => {
    const registry = createRegistry('edge', true, { zone: 'fra' });
    const requests = new prom.Counter({ name: 'meridian_edge_requests_total', help: 'requests answered', labelNames: ['service'], registers: [registry] });
    requests.inc({ service: 'say "hi"\\' });
    await assertPromtoolAccepts(await registry.metrics(), 'the registry');
  });

  it('refuses text that does not parse, and says where', async () => {
    const text = '# HELP meridian_x_total x\n# TYPE meridian_x_total counter\nmeridian_x_total{service="a} 1\n';
    await assert.rejects(assertPromtoolAccepts(text, 'the broken text'), /refuses the broken text \(exit 1\):\n.*line 3/);
  });

  it("refuses Meridian's own names that break Prometheus's lint", async () => {
    const text = '# HELP meridian_edge_requests x\n# TYPE meridian_edge_requests counter\nmeridian_edge_requests 1\n';
    await assert.rejects(assertPromtoolAccepts(text, 'the text'), /meridian_edge_requests counter metrics should have "_total" suffix/);
  });
});
