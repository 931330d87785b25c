// An edge's TCP listeners, kept in line with the view: one net.Server per
// tcp Service port on the public host (the host of --http, else --https) and
// one on the mesh listener's host, at the Service port's number. A port the
// view no longer asks for stops accepting; its open connections go on until
// they end (or the gateway drains). A clash (tcp-port-table.ts) or a port
// that cannot be bound (EADDRINUSE...) is logged as an error and the port
// left out; the bind is tried again with the next view. Per listener, at
// most maxConnections are open at once: more are closed at once and counted
// (reason limit). On the mesh host a caller must pass meshCallerCheck
// (refused: closed, counted as reason caller); the public host takes anyone.
import * as net from 'node:net';
import type { Logger } from '../../lib/observability/logger';
import type { EdgeView } from '../config/edge-view';
import type { TcpPortBinding, TcpScope } from './tcp-connection';
import type { TcpMetrics } from './tcp-metrics';
import { tcpPortTable } from './tcp-port-table';

export interface TcpListenersOptions {
  publicHost: string | undefined;
  meshHost: string | undefined;
  // The ports this proxy listens on itself at a scope's host: number -> what it is.
  reserved(scope: TcpScope): ReadonlyMap<number, string>;
  maxConnections: number;
  metrics: TcpMetrics;
  logger: Logger;
  // A refusal reason for a mesh-listener caller, or undefined to take it.
  meshCallerCheck(remoteAddress: string, service: string): string | undefined;
  serve(socket: net.Socket, binding: TcpPortBinding, scope: TcpScope, done: () => void): void;
}

interface Listener {
  scope: TcpScope;
  host: string;
  binding: TcpPortBinding;
  server: net.Server;
  open: number;
}

// Caller refusals logged (one line per address), bounded.
const MAX_LOGGED_CALLERS = 1024;

export class TcpListeners {
  private readonly listeners = new Map<string, Listener>();
  private view: EdgeView | undefined;
  private started = false;
  private stopped = false;
  private work: Promise<void> = Promise.resolve();
  // Errors logged while they last (a clash, a failed bind), so a view a
  // second does not repeat them.
  private loggedClashes = new Set<string>();
  private readonly loggedBindErrors = new Set<string>();
  private readonly loggedCallers = new Set<string>();

  constructor(private readonly o: TcpListenersOptions) {}

  apply(view: EdgeView): void {
    this.view = view;
    if (this.started && !this.stopped) this.work = this.work.then(() => this.reconcile());
  }

  // Opens the listeners of the view applied so far; later views apply as they come.
  async start(): Promise<void> {
    this.started = true;
    if (this.view !== undefined) this.apply(this.view);
    await this.work;
  }

  // Resolves once the views applied so far are in force.
  settled(): Promise<void> {
    return this.work;
  }

  address(scope: TcpScope, port: number): net.AddressInfo | undefined {
    const a = this.listeners.get(key(scope, port))?.server.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  // What /v1/view shows: the listeners open, and the clashes in force.
  summary(): { listeners: Record<string, unknown>[]; clashes: string[] } {
    const listeners = [...this.listeners.values()]
      .map((l) => ({ scope: l.scope, host: l.host, port: l.binding.port, service: l.binding.service, portName: l.binding.portName, open: l.open }))
      .sort((a, b) => a.port - b.port || (a.scope < b.scope ? -1 : 1));
    return { listeners, clashes: [...this.loggedClashes].sort() };
  }

  // Every TCP listener stops accepting; open connections are left alone.
  stopAccepting(): void {
    this.stopped = true;
    for (const l of this.listeners.values()) l.server.close(() => undefined);
    this.listeners.clear();
  }

  private async reconcile(): Promise<void> {
    const view = this.view;
    if (view === undefined || this.stopped) return;
    const desired = new Map<string, { scope: TcpScope; host: string; binding: TcpPortBinding }>();
    const clashes = new Set<string>();
    const scopes: [TcpScope, string | undefined][] = [
      ['public', this.o.publicHost],
      ['mesh', this.o.meshHost],
    ];
    for (const [scope, host] of scopes) {
      if (host === undefined) continue;
      const table = tcpPortTable(view.services.values(), this.o.reserved(scope), scope === 'public');
      for (const c of table.clashes) clashes.add(c);
      for (const [port, binding] of table.ports) desired.set(key(scope, port), { scope, host, binding });
    }
    for (const c of clashes) if (!this.loggedClashes.has(c)) this.o.logger.error({ clash: c }, 'tcp port clash');
    this.loggedClashes = clashes;

    for (const [k, l] of this.listeners) {
      if (desired.has(k)) continue;
      l.server.close(() => undefined);
      this.listeners.delete(k);
      this.o.logger.info({ scope: l.scope, host: l.host, port: l.binding.port, open: l.open }, 'tcp listener closed; its open connections go on');
    }
    const opening: Promise<void>[] = [];
    for (const [k, d] of desired) {
      const l = this.listeners.get(k);
      if (l !== undefined) l.binding = d.binding;
      else opening.push(this.open(k, d.scope, d.host, d.binding));
    }
    await Promise.all(opening);
  }

  private open(k: string, scope: TcpScope, host: string, binding: TcpPortBinding): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    const l: Listener = { scope, host, binding, server, open: 0 };
    server.on('connection', (socket) => this.accept(l, socket));
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const logKey = `${k} ${err.code ?? err.message}`;
        if (!this.loggedBindErrors.has(logKey)) {
          this.loggedBindErrors.add(logKey);
          this.o.logger.error({ scope, host, port: binding.port, service: binding.service, code: err.code, err: err.message }, 'tcp listener could not listen; tried again with the next view');
        }
        server.close(() => undefined);
        resolve();
      };
      server.once('error', onError);
      server.listen({ host, port: binding.port }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.o.logger.error({ scope, host, port: binding.port, err: err.message }, 'tcp listener error'));
        for (const e of [...this.loggedBindErrors]) if (e.startsWith(`${k} `)) this.loggedBindErrors.delete(e);
        if (this.stopped) {
          server.close(() => undefined);
          return resolve();
        }
        this.listeners.set(k, l);
        this.o.logger.info({ scope, host, port: binding.port, service: binding.service, portName: binding.portName }, 'tcp listener open');
        resolve();
      });
    });
  }

  private accept(l: Listener, socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (l.open >= this.o.maxConnections) {
      this.o.metrics.refuse('limit');
      socket.destroy();
      return;
    }
    const binding = l.binding;
    if (l.scope === 'mesh') {
      const remote = socket.remoteAddress ?? '';
      const why = this.o.meshCallerCheck(remote, binding.service);
      if (why !== undefined) {
        this.o.metrics.refuse('caller');
        if (!this.loggedCallers.has(remote) && this.loggedCallers.size < MAX_LOGGED_CALLERS) {
          this.loggedCallers.add(remote);
          this.o.logger.warn({ remote, service: binding.service, port: binding.port, reason: why }, 'tcp mesh listener refused a caller');
        }
        socket.destroy();
        return;
      }
    }
    l.open++;
    this.o.serve(socket, binding, l.scope, () => l.open--);
  }
}

function key(scope: TcpScope, port: number): string {
  return `${scope} ${port}`;
}
