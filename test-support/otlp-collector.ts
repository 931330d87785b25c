// A stand-in OTLP/HTTP collector on 127.0.0.1 for tests: records every JSON
// body posted to it and answers with the status the test sets.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpanJson {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status: { code?: number };
}

export interface OtlpPost {
  url: string;
  contentType: string | undefined;
  body: { resourceSpans: { resource: { attributes: { key: string; value: { stringValue: string } }[] }; scopeSpans: { spans: OtlpSpanJson[] }[] }[] };
}

export class OtlpCollectorStub {
  readonly posted: OtlpPost[] = [];
  answer = 200;
  private readonly server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => (text += c));
    req.on('end', () => {
      this.posted.push({ url: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(text) });
      res.writeHead(this.answer, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  spans(): OtlpSpanJson[] {
    return this.posted.flatMap((p) => p.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
