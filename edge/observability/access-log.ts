// One JSON line per request (the hop's span, with its trace ids), and one per
// call to an instance, sampled per trace: --access-log-sample (0..1) is the share
// of requests logged. The default is 0.01: at edge rates a line per request
// costs more than the request itself, and metrics count every request
// anyway; pass 1 to log them all (while debugging, in tests). Lines go
// through pino on an asynchronous destination, written out once 4 KiB have
// gathered, at least every second, and at exit. With --otlp-endpoint the same
// spans also go to an OTLP collector.
//
// Query strings carry tokens and personal data (?token=..., ?email=...): a
// line has the path and "?<redacted>" unless --access-log-query full asks for
// the query as sent. Names are not kept either: a bare "?SECRET" is a name.
import pino from 'pino';
import type { ExportedSpan, OtlpExporter } from '../../lib/tracing/otlp-exporter';

export const DEFAULT_ACCESS_LOG_SAMPLE = 0.01;

// What a line keeps of a request's query string (--access-log-query).
export type AccessLogQuery = 'redacted' | 'full';
export const ACCESS_LOG_QUERY_MODES: readonly AccessLogQuery[] = ['redacted', 'full'];
export const REDACTED_QUERY = '?<redacted>';

// "/search?token=x" -> "/search?<redacted>"; a target without a query (or
// with an empty one) as it is.
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 || q === url.length - 1 ? url : url.slice(0, q) + REDACTED_QUERY;
}

export interface AccessRecord {
  method: string;
  host: string;
  // The request target as sent, its query redacted unless asked otherwise.
  url: string;
  status: number;
  service: string;
  region: string;
  ms: number;
  tries: number;
  requestId: string;
  // The peer the request came from.
  remote: string | undefined;
  // The client: the peer, or behind a trusted proxy the address it names.
  client?: string;
  protocol: string;
  lastFailure?: string;
  detail?: string;
  // The hop's span (edge/observability/hop-trace.ts).
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  span_name: string;
}

// A call from this hop to an instance, logged when its trace is sampled.
export interface InstanceCallSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  span_name: 'instance call';
  service: string;
  instance: string;
  address: string;
  // 0 when no answer came (error says why).
  status: number;
  ms: number;
  error?: string;
}

const FLUSH_EVERY_MS = 1000;

type SpanFields = Pick<AccessRecord, 'trace_id' | 'span_id' | 'parent_span_id' | 'span_name' | 'ms' | 'status'>;

// A logged span as the OTLP exporter takes it; it ended just now.
function exported(s: SpanFields, kind: ExportedSpan['kind'], attributes: ExportedSpan['attributes']): ExportedSpan {
  return {
    traceId: s.trace_id,
    spanId: s.span_id,
    parentSpanId: s.parent_span_id,
    name: s.span_name,
    kind,
    startMs: Date.now() - s.ms,
    durationMs: s.ms,
    status: s.status,
    attributes,
  };
}

export class AccessLog {
  private readonly logger: pino.Logger | undefined;
  private readonly destination: pino.DestinationStream & { flushSync?: () => void; flush?: () => void } | undefined;

  constructor(
    readonly sample: number,
    fields: Record<string, unknown>,
    // For tests: where lines go (default: stdout, asynchronously).
    stream?: pino.DestinationStream,
    private readonly otlp?: OtlpExporter,
    private readonly query: AccessLogQuery = 'redacted',
  ) {
    if (sample <= 0) return;
    this.destination = stream ?? pino.destination({ dest: 1, sync: false, minLength: 4096 });
    // A quiet gateway's last lines must not wait for the next 4 KiB.
    if (stream === undefined) setInterval(() => this.flushSoon(), FLUSH_EVERY_MS).unref();
    this.logger = pino(
      {
        name: 'meridian-edge-access',
        base: { part: 'edge', pid: process.pid, ...fields },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      this.destination,
    );
  }

  get enabled(): boolean {
    return this.logger !== undefined;
  }

  // Cheap when the request is not sampled: one comparison and Math.random.
  wants(): boolean {
    return this.logger !== undefined && (this.sample >= 1 || Math.random() < this.sample);
  }

  write(record: AccessRecord): void {
    const url = record.url;
    if (this.query !== 'full') record.url = redactQuery(url);
    this.logger?.info(record, 'request');
    const q = url.indexOf('?');
    this.otlp?.add(exported(record, 'server', {
      'http.request.method': record.method,
      'server.address': record.host,
      'url.path': q < 0 ? url : url.slice(0, q),
      ...(this.query === 'full' && q >= 0 ? { 'url.query': url.slice(q + 1) } : {}),
      'meridian.service': record.service,
      'meridian.served_region': record.region,
      'meridian.tries': record.tries,
      'meridian.request_id': record.requestId,
    }));
  }

  writeSpan(span: InstanceCallSpan): void {
    this.logger?.info(span, 'span');
    this.otlp?.add(exported(span, 'client', {
      'meridian.service': span.service,
      'meridian.instance': span.instance,
      'server.address': span.address,
      ...(span.error ? { 'error.type': span.error } : {}),
    }));
  }

  private flushSoon(): void {
    try {
      this.destination?.flush?.();
    } catch {
      // Closed at exit: flush() did the rest.
    }
  }

  // At exit: the lines, then the spans still queued for the collector.
  async close(): Promise<void> {
    this.flush();
    await this.otlp?.stop();
  }

  flush(): void {
    try {
      this.destination?.flushSync?.();
    } catch {
      // Not ready yet or closed: nothing to flush.
    }
  }
}
