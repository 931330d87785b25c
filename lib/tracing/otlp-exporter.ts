// A small OTLP/HTTP exporter (JSON encoding, POST {endpoint}/v1/traces) for
// the spans a part already logs: batched, at most one request in flight, a
// bounded queue that drops the newest spans when the collector cannot keep up
// (counted, never blocking a request). @opentelemetry/* would bring an SDK and
// a context manager the hot path does not want.
// https://opentelemetry.io/docs/specs/otlp/#otlphttp
import { request } from 'undici';

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  // '' for a root span.
  parentSpanId: string;
  name: string;
  kind: 'server' | 'client';
  // Wall clock, milliseconds since the epoch (fractions kept).
  startMs: number;
  durationMs: number;
  // HTTP status; 0 when no answer came. 5xx and 0 mark the span as an error.
  status: number;
  attributes: Record<string, string | number>;
}

export interface OtlpExporterOptions {
  // http(s)://host:port of the collector; /v1/traces is added.
  endpoint: string;
  serviceName: string;
  resource?: Record<string, string>;
  maxBatch?: number;
  maxQueue?: number;
  flushEveryMs?: number;
  timeoutMs?: number;
  onError?: (message: string) => void;
}

const SPAN_KIND = { server: 2, client: 3 } as const;
const STATUS_ERROR = 2;

// The URL an --otlp-endpoint value names, or an error saying what is wrong.
export function otlpTracesUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`'${endpoint}' is not a URL (expected http://HOST:PORT of an OTLP/HTTP collector)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`'${endpoint}': only http and https are supported`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/v1/traces`;
}

export class OtlpExporter {
  dropped = 0;
  exported = 0;
  private queue: ExportedSpan[] = [];
  private sending: Promise<void> | null = null;
  private readonly url: string;
  private readonly resource: { key: string; value: { stringValue: string } }[];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: OtlpExporterOptions) {
    this.url = otlpTracesUrl(opts.endpoint);
    this.resource = Object.entries({ 'service.name': opts.serviceName, ...opts.resource }).map(([key, v]) => ({ key, value: { stringValue: v } }));
    this.timer = setInterval(() => void this.flush(), opts.flushEveryMs ?? 1000);
    this.timer.unref();
  }

  add(span: ExportedSpan): void {
    if (this.queue.length >= (this.opts.maxQueue ?? 4096)) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= (this.opts.maxBatch ?? 512) && this.sending === null) void this.flush();
  }

  // Sends what is queued, one batch after another; resolves when done.
  async flush(): Promise<void> {
    while (this.sending !== null) await this.sending;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 512);
    this.sending = this.send(batch).finally(() => (this.sending = null));
    await this.sending;
    if (this.queue.length > 0) await this.flush();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async send(batch: ExportedSpan[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [{ resource: { attributes: this.resource }, scopeSpans: [{ scope: { name: 'meridian' }, spans: batch.map(encodeSpan) }] }],
    });
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        headersTimeout: this.opts.timeoutMs ?? 5000,
        bodyTimeout: this.opts.timeoutMs ?? 5000,
      });
      const answer = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`the collector answered ${res.statusCode}: ${answer.slice(0, 200)}`);
      this.exported += batch.length;
    } catch (err) {
      this.dropped += batch.length;
      this.opts.onError?.(`OTLP export to ${this.url} failed, ${batch.length} spans dropped: ${(err as Error).message}`);
    }
  }
}

function nanos(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6))).toString();
}

function encodeSpan(s: ExportedSpan): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId !== '' ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: SPAN_KIND[s.kind],
    startTimeUnixNano: nanos(s.startMs),
    endTimeUnixNano: nanos(s.startMs + s.durationMs),
    attributes: Object.entries({ ...s.attributes, 'http.response.status_code': s.status }).map(([key, v]) => ({
      key,
      value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : { stringValue: v },
    })),
    status: s.status === 0 || s.status >= 500 ? { code: STATUS_ERROR } : {},
  };
}
