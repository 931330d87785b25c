// A stand-in for the global controller's admin API (docs/admin-api.md) for the
// CLI's tests: it records every request and answers with what the test says.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeResponse {
  status?: number;
  // An object is sent as JSON; a string as it is.
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (req: RecordedRequest) => FakeResponse;

export class FakeAdminServer {
  readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;

  constructor(private handler: FakeHandler = () => ({ status: 404, body: { error: 'not found', details: [] } })) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        const answer = this.handler(recorded);
        const isText = typeof answer.body === 'string';
        const payload = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, {
          'content-type': isText ? 'application/yaml' : 'application/json',
          ...answer.headers,
        });
        res.end(payload);
      });
    });
  }

  // Replaces how the server answers, for the next requests.
  answer(handler: FakeHandler): void {
    this.handler = handler;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// The error body every failure of the admin API carries.
export function errorBody(error: string, details: unknown[] = []): { error: string; details: unknown[] } {
  return { error, details };
}
