// A small line protocol over TCP, for tests of TCP services: the server
// speaks first (`hello <id>`), then answers every line with `<id>: <line>`.
// The client reads lines and sees the connection close.
import assert from 'node:assert/strict';
import * as net from 'node:net';

export class LineEcho {
  connections = 0;
  // Kept after close: a closed instance's port refuses connections.
  port = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly id: string,
    private readonly server: net.Server,
  ) {}

  static async start(id: string, host = '127.0.0.1'): Promise<LineEcho> {
    const server = net.createServer();
    const echo = new LineEcho(id, server);
    server.on('connection', (socket) => {
      echo.connections++;
      echo.sockets.add(socket);
      socket.once('close', () => echo.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.write(`hello ${id}\n`);
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          socket.write(`${id}: ${pending.slice(0, nl)}\n`);
          pending = pending.slice(nl + 1);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    echo.port = (server.address() as net.AddressInfo).port;
    return echo;
  }

  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export class LineClient {
  private lines: string[] = [];
  private pending = '';
  private waiters: (() => void)[] = [];
  closed = false;
  readonly whenClosed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.pending.indexOf('\n')) >= 0) {
        this.lines.push(this.pending.slice(0, nl));
        this.pending = this.pending.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    this.whenClosed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  // Connected (not yet answered): what is sent now may reach the proxy before its upstream is there.
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, localAddress });
      socket.once('connect', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  send(line: string): void {
    this.socket.write(line + '\n');
  }

  // The next line; rejects when the connection closes first or after waitMs (a hang).
  async nextLine(waitMs = 10_000): Promise<string> {
    const deadline = Date.now() + waitMs;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${waitMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.lines.shift()!;
  }

  // Resolves with whether the connection closed within waitMs (a bound on a hang).
  async closedWithin(waitMs = 10_000): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.whenClosed.then(() => true), new Promise<boolean>((resolve) => (t = setTimeout(() => resolve(false), waitMs)))]);
    clearTimeout(t);
    return r;
  }

  received(): readonly string[] {
    return this.lines;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

// A port nobody listens on right now (bound, then released).
// What a client of a LineEcho instance sees through a proxy: the greeting,
// its early line (sent before the upstream was surely connected) echoed, then
// a line larger than a socket buffer echoed whole.
export async function checkBothWays(c: LineClient, instance: string, bigBytes = 300 * 1024): Promise<void> {
  c.send('early');
  assert.equal(await c.nextLine(), `hello ${instance}`);
  assert.equal(await c.nextLine(), `${instance}: early`);
  const big = 'z'.repeat(bigBytes);
  c.send(big);
  assert.equal(await c.nextLine(), `${instance}: ${big}`);
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
