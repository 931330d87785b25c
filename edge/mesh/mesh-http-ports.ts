// The mesh listener on the other HTTP ports of the view's Services: a
// workload calls http://api.mesh:9090/ as it would a Kubernetes Service port,
// so the mesh host listens on every HTTP port number a Service lists (besides
// the mesh listener's own, and 80 and 443: those are what the mesh listener
// serves in production), and hands each connection to the mesh listener's
// HTTP server, which routes by Host and by the port the request came in on.
// One port serves every Service that lists it. A port a TCP service holds, or
// one this proxy listens on itself, is left to that; a port that cannot be
// bound is logged and tried again on the next view.
import * as net from 'node:net';
import type { Logger } from '../../lib/observability/logger';
import type { EdgeView } from '../config/edge-view';

// The mesh listener's own ports where it runs as it should.
const WELL_KNOWN = new Set([80, 443]);

interface PortListener {
  server: net.Server;
  bound: boolean;
}

export class MeshHttpPorts {
  private readonly listeners = new Map<number, PortListener>();
  private readonly failedLogged = new Set<number>();
  private closed = false;

  constructor(
    private readonly host: string,
    // The mesh listener's HTTP server, which takes the connections.
    private readonly target: net.Server,
    // Ports this proxy listens on itself at the mesh host.
    private readonly reserved: () => ReadonlySet<number>,
    private readonly logger: Logger,
  ) {}

  apply(view: EdgeView): void {
    if (this.closed) return;
    const wanted = new Set<number>();
    const tcp = new Set<number>();
    for (const s of view.services.values()) for (const p of s.spec.ports) (p.protocol === 'tcp' ? tcp : wanted).add(p.port);
    const reserved = this.reserved();
    for (const port of [...wanted]) if (tcp.has(port) || reserved.has(port) || WELL_KNOWN.has(port)) wanted.delete(port);
    for (const [port, l] of this.listeners) {
      if (wanted.has(port) && l.bound) continue;
      l.server.close(() => undefined);
      this.listeners.delete(port);
    }
    for (const port of wanted) if (!this.listeners.has(port)) this.open(port);
  }

  ports(): number[] {
    return [...this.listeners].filter(([, l]) => l.bound).map(([p]) => p).sort((a, b) => a - b);
  }

  close(): void {
    this.closed = true;
    for (const l of this.listeners.values()) l.server.close(() => undefined);
    this.listeners.clear();
  }

  private open(port: number): void {
    const server = net.createServer({ noDelay: true }, (socket) => this.target.emit('connection', socket));
    const l: PortListener = { server, bound: false };
    this.listeners.set(port, l);
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (this.listeners.get(port) === l) this.listeners.delete(port);
      if (!this.failedLogged.has(port)) {
        this.failedLogged.add(port);
        this.logger.error({ host: this.host, port, err: err.code ?? err.message }, 'mesh listener: cannot listen on a Service HTTP port; tried again on the next view');
      }
    });
    server.listen(port, this.host, () => {
      l.bound = true;
      this.failedLogged.delete(port);
    });
  }
}
