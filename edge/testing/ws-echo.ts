// A WebSocket test instance (the `ws` package on node:http): echoes every
// message as it came (text as text, binary as binary), closes with 4001
// when told "close-me", records the upgrade requests and the close codes it
// saw, and answers 403 to upgrades of /forbidden.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

export interface SeenClose {
  code: number;
  reason: string;
}

export class WsEcho {
  port = 0;
  readonly upgrades: http.IncomingMessage[] = [];
  readonly closes: SeenClose[] = [];
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly closeWaiters: ((c: SeenClose) => void)[] = [];

  constructor(readonly name: string) {
    this.server = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('upgrade required\n');
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.upgrades.push(req);
      if (req.url === '/forbidden') {
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 10\r\nx-from: instance\r\n\r\nforbidden\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws));
    });
    this.wss.on('headers', (headers) => headers.push(`x-instance: ${name}`));
  }

  private serve(ws: WebSocket): void {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary && data.toString() === 'close-me') {
        ws.close(4001, 'server says bye');
        return;
      }
      ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const c = { code, reason: reason.toString() };
      this.closes.push(c);
      for (const w of this.closeWaiters.splice(0)) w(c);
    });
  }

  nextClose(timeoutMs = 3_000): Promise<SeenClose> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the instance saw no close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  static async start(name: string): Promise<WsEcho> {
    const s = new WsEcho(name);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface Opened {
  ws: WebSocket;
  response: http.IncomingMessage;
}

// Opens a WebSocket to 127.0.0.1:port naming `host`; rejects with the status
// of a refused upgrade.
export function openWs(port: number, path: string, host: string, options: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const scheme = options.ca ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://127.0.0.1:${port}${path}`, {
      headers: { host, ...options.headers },
      ...(options.ca ? { ca: options.ca, servername: host.split(':')[0] } : {}),
      handshakeTimeout: 5_000,
    });
    let response: http.IncomingMessage | undefined;
    ws.once('upgrade', (res) => (response = res));
    ws.once('open', () => resolve({ ws, response: response! }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body })));
    });
    ws.once('error', reject);
  });
}

// The next message, with whether it was binary.
export function nextMessage(ws: WebSocket, timeoutMs = 3_000): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), timeoutMs);
    ws.once('message', (data: RawData, binary: boolean) => {
      clearTimeout(timer);
      resolve({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary });
    });
  });
}

export function closed(ws: WebSocket, timeoutMs = 3_000): Promise<SeenClose> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    const timer = setTimeout(() => reject(new Error('not closed')), timeoutMs);
    ws.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}
