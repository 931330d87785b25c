// A TCP path on 127.0.0.1 that can die the way a broken tunnel does, for the
// edge's dead-path tests: it forwards every connection to a target port;
// freeze() stops it silently: bytes on open connections are dropped (no
// reset, no close), and new connections never complete their handshake (a
// child process listens on the port with a full accept queue and a loop
// that never runs, so the kernel drops further SYNs); thaw() lets new
// connections through again while the frozen ones stay hung, as an HTTP/2
// session does after a tunnel heals.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';

// Listens with a backlog of 1, says so, then blocks its loop (for a minute
// at most, should the test die without ending it).
const BLACKHOLE = `
const server = require('node:net').createServer();
server.listen({ port: Number(process.argv[1]), host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write('listening\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    process.exit(0);
  });
});`;

export class FreezablePath {
  port = 0;
  // Connections accepted so far.
  accepted = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private blackhole: ChildProcess | undefined;
  // Both ends of every connection open when the path froze: silent for good.
  private readonly hung = new WeakSet<net.Socket>();

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<FreezablePath> {
    const path = new FreezablePath(targetPort);
    await path.listen(0);
    return path;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  // Open connections go silent (their bytes dropped from now on), new ones
  // hang in their handshake.
  async freeze(): Promise<void> {
    for (const s of this.sockets) this.hung.add(s);
    this.stopListening();
    const child = spawn(process.execPath, ['-e', BLACKHOLE, String(this.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.blackhole = child;
    await once(child.stdout!, 'data');
    // Fill its accept queue: from here on the kernel drops SYNs to the port.
    const fillers = Array.from({ length: 4 }, () => net.connect(this.port, '127.0.0.1').on('error', () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const f of fillers) f.destroy();
  }

  // New connections go through again; the frozen ones stay silent.
  async thaw(): Promise<void> {
    await this.endBlackhole();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    this.stopListening();
    await this.endBlackhole();
    for (const s of this.sockets) s.destroy();
  }

  private stopListening(): void {
    // At once: close()'s callback would wait for the hung connections.
    this.server?.close();
    this.server = undefined;
  }

  private async endBlackhole(): Promise<void> {
    const child = this.blackhole;
    this.blackhole = undefined;
    if (child === undefined || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  private async listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  private forward(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pipe = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!this.hung.has(from)) to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        // A silent path does not pass a close on either.
        if (!this.hung.has(s)) (s === client ? upstream : client).destroy();
      });
    }
  }
}
