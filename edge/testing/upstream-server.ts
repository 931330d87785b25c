// Test instances: small node:http servers on 127.0.0.1 that answer JSON
// naming themselves (and echoing what they received), with switches to make
// them fail, stall or answer slowly.
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => boolean | void;

export class TestUpstream {
  readonly received: Received[] = [];
  port = 0;
  // Return true when the behaviour answered itself; otherwise the JSON answer follows.
  behaviour: Behaviour | undefined;
  delayMs = 0;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private closedBytes = 0;

  constructor(readonly name: string) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (this.behaviour?.(req, res, body) === true) return;
        const answer = () => {
          const text = JSON.stringify({ name: this.name, method: req.method, url: req.url, headers: req.headers, body });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 10_000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        this.closedBytes += s.bytesRead;
      });
    });
  }

  static async start(name: string, port = 0): Promise<TestUpstream> {
    const u = new TestUpstream(name);
    await u.listen(port);
    return u;
  }

  async listen(port = this.port): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  // Every byte any connection sent it, whether or not it made a request.
  bytesReceived(): number {
    let n = this.closedBytes;
    for (const s of this.sockets) n += s.bytesRead;
    return n;
  }

  // Stops it the hard way, as a crashed instance: open connections are reset.
  async kill(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// Static-config documents for tests.
export function serviceDoc(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec };
}

export function instanceDoc(name: string, service: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'meridian.dev/v1', kind: 'Instance', metadata: { name }, spec: { service, address: '127.0.0.1', port, ...extra } };
}

export function doc(kind: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'meridian.dev/v1', kind, metadata: { name }, spec };
}
