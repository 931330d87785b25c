// What every finished request leaves behind, plain or upgraded: its count and
// duration in the metrics of the service and region that served it, and, when
// its trace is sampled, an access-log line that is also the hop's span.
import type { Backend } from '../backend/backend';
import type { HopTrace } from '../observability/hop-trace';
import type { FailureKind } from '../resilience/retry-policy';
import type { ExchangeContext } from './exchange-context';

// Status recorded when the client went away before the response was complete.
export const CLIENT_CLOSED = 499;

export interface ExchangeOutcome {
  backend: Backend | undefined;
  servedRegion: string;
  status: number;
  startedAt: number;
  method: string;
  hostKey: string;
  url: string;
  tries: number;
  requestId: string;
  remote: string | undefined;
  // The client behind a trusted proxy (head.clientAddress); else the peer.
  client?: string;
  protocol: string;
  lastFailure: FailureKind | null;
  lastDetail: string;
  trace: HopTrace;
}

export function recordExchange(proxy: ExchangeContext, o: ExchangeOutcome): void {
  const metrics = o.backend !== undefined ? o.backend.metrics : proxy.unrouted;
  if (o.backend !== undefined) o.backend.metrics.inFlight.dec();
  const region = metrics.region(o.servedRegion);
  region.countRequest(o.status);
  const ms = performance.now() - o.startedAt;
  region.duration.observe(ms / 1000);
  const trace = o.trace;
  if (!trace.sampled) return;
  proxy.accessLog.write({
    method: o.method,
    host: o.hostKey,
    url: o.url,
    status: o.status,
    service: o.backend?.name ?? '',
    region: o.servedRegion,
    ms: Math.round(ms * 1000) / 1000,
    tries: o.tries,
    requestId: o.requestId,
    remote: o.remote,
    client: o.client ?? o.remote,
    protocol: o.protocol,
    ...(o.lastFailure !== null ? { lastFailure: o.lastFailure, detail: o.lastDetail } : {}),
    trace_id: trace.traceId,
    span_id: trace.spanId,
    parent_span_id: trace.parentSpanId,
    span_name: proxy.mode,
  });
}
