// A test instance that records every byte it receives, for comparing what
// two gateways sent it. It answers by path: /chunked (chunked with a
// trailer), /early-hints (103, then 200), /no-content (204), /not-modified
// (304), /cookies (two Set-Cookie), /big (a long body with a length),
// /big-chunked (a long body without one); anything else gets a short JSON
// echo of what it received.
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const BIG_BODY_BYTES = 300 * 1024;

export class RecordingInstance {
  port = 0;
  private readonly chunks: Buffer[] = [];
  private readonly server: http.Server;

  constructor() {
    this.server = http.createServer((req, res) => {
      let length = 0;
      req.on('data', (c: Buffer) => (length += c.length));
      req.on('end', () => answer(req, res, length));
    });
    this.server.keepAliveTimeout = 10_000;
    this.server.on('connection', (s: Socket) => s.on('data', (d: Buffer) => this.chunks.push(d)));
  }

  static async start(): Promise<RecordingInstance> {
    const r = new RecordingInstance();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.port = (r.server.address() as AddressInfo).port;
    return r;
  }

  // Everything received since `mark` (a previous received().length).
  received(mark = 0): string {
    return Buffer.concat(this.chunks).toString('latin1').slice(mark);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, length: number): void {
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/chunked':
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('abc');
      res.write('def');
      res.addTrailers({ 'x-checksum': '42' });
      res.end();
      return;
    case '/early-hints':
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
      return;
    case '/no-content':
      res.writeHead(204, { 'x-kind': 'none' });
      res.end();
      return;
    case '/not-modified':
      res.writeHead(304, { etag: '"v1"' });
      res.end();
      return;
    case '/cookies':
      res.writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'content-length': 0 });
      res.end();
      return;
    case '/big':
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BODY_BYTES });
      res.end(Buffer.alloc(BIG_BODY_BYTES, 'x'));
      return;
    case '/big-chunked':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(BIG_BODY_BYTES / 10, 'y'));
      res.end();
      return;
    default: {
      const text = JSON.stringify({ method: req.method, url: req.url, httpVersion: req.httpVersion, bodyBytes: length, trailers: req.trailers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  }
}
