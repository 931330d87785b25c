// TCP services in one gateway, as the gateway sees them: in edge mode the
// TCP listeners (tcp-listeners.ts) and their connections (tcp-connection.ts);
// in ingress mode the meridian-tcp upgrade (tcp-upgrade.ts), which the proxy
// hands here. The gateway applies every view, stops accepting on drain,
// waits for the open connections within the drain period and closes them.
import type { IncomingMessage } from 'node:http';
import type * as net from 'node:net';
import type { Logger } from '../../lib/observability/logger';
import type { Registry } from '../../lib/observability/metrics';
import { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import type { Backend } from '../backend/backend';
import { emptyView, type EdgeView } from '../config/edge-view';
import type { IngressAuthorizer } from '../identity/ingress-authorizer';
import type { HostPort } from '../listener/listeners';
import type { MeshListenerOptions } from '../mesh/mesh-options';
import type { ProxyMode } from '../request/exchange-context';
import { serveTcpConnection, type TcpConnectionContext, type TcpScope } from './tcp-connection';
import { TcpListeners } from './tcp-listeners';
import { TcpMetrics } from './tcp-metrics';
import { handleTcpUpgrade, type TcpIngressContext } from './tcp-upgrade';

export interface TcpProxyingOptions {
  mode: ProxyMode;
  name: string;
  region: string;
  http?: HostPort;
  https?: HostPort;
  mesh?: MeshListenerOptions;
  // Per TCP listener.
  maxConnections: number;
  // The public TCP listeners' host (--tcp-host); default the --http host, else --https.
  publicHost?: string;
  // The port an HTTP(S) listener of this gateway is bound to (its flag may say 0).
  boundPort(which: 'http' | 'https'): number | undefined;
  // The backend of a Service port.
  backendFor(service: string, portName: string): Backend | undefined;
  openIngressConnection(address: string): net.Socket;
  authorizer?: IngressAuthorizer;
  // Hops a connection may make (--max-hops).
  maxHops: number;
  // A refusal reason for a caller of a mesh TCP listener, or undefined to
  // take it. Default: the caller's address must be inside the Region's
  // spec.instanceNetworks (the private ranges when it names none).
  meshCallerCheck?: (remoteAddress: string, service: string) => string | undefined;
  // The caller identity an edge passes to a remote ingress (x-meridian-source-identity).
  sourceIdentity?: (remoteAddress: string, service: string, scope: TcpScope) => string | undefined;
  draining(): boolean;
  registry: Registry;
  logger: Logger;
}

export class TcpProxying {
  readonly metrics: TcpMetrics;
  private view: EdgeView;
  private readonly listeners: TcpListeners | undefined;
  private readonly open = new Set<net.Socket>();
  private idleWaiters: (() => void)[] = [];
  private callers: { networks: readonly string[] | undefined; policy: InstanceAddressPolicy } | undefined;

  private readonly connectionContext: TcpConnectionContext;
  private readonly ingressContext: TcpIngressContext;

  constructor(private readonly o: TcpProxyingOptions) {
    this.metrics = new TcpMetrics(o.registry);
    this.view = emptyView(o.region);
    const view = () => this.view;
    this.connectionContext = {
      metrics: this.metrics,
      logger: o.logger,
      view,
      backendFor: o.backendFor,
      openIngressConnection: o.openIngressConnection,
      sourceIdentity: o.sourceIdentity,
    };
    this.ingressContext = {
      name: o.name,
      region: o.region,
      metrics: this.metrics,
      logger: o.logger,
      authorizer: o.authorizer,
      maxHops: o.maxHops,
      openIngressConnection: o.openIngressConnection,
      view,
      backendFor: o.backendFor,
      draining: o.draining,
    };
    if (o.mode !== 'edge') return;
    this.listeners = new TcpListeners({
      publicHost: o.publicHost ?? (o.http ?? o.https)?.host,
      meshHost: o.mesh?.http?.host,
      reserved: (scope) => this.reserved(scope),
      maxConnections: o.maxConnections,
      metrics: this.metrics,
      logger: o.logger,
      meshCallerCheck: o.meshCallerCheck ?? ((address) => this.defaultCallerCheck(address)),
      serve: (socket, binding, scope, done) => {
        this.open.add(socket);
        serveTcpConnection(this.connectionContext, socket, binding, scope, () => {
          this.open.delete(socket);
          done();
          if (this.open.size === 0) this.wakeIdle();
        });
      },
    });
  }

  applyView(view: EdgeView): void {
    this.view = view;
    this.listeners?.apply(view);
  }

  async start(): Promise<void> {
    await this.listeners?.start();
  }

  // Resolves when the listeners match the views applied so far.
  settled(): Promise<void> {
    return this.listeners?.settled() ?? Promise.resolve();
  }

  address(scope: TcpScope, port: number): net.AddressInfo | undefined {
    return this.listeners?.address(scope, port);
  }

  // For /v1/view (edge mode).
  summary(): Record<string, unknown> | undefined {
    return this.listeners?.summary();
  }

  stopAccepting(): void {
    this.listeners?.stopAccepting();
  }

  // Resolves when no edge TCP connection is open (an ingress's are requests of its proxy).
  whenIdle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.stopAccepting();
    for (const s of this.open) s.destroy();
  }

  // The proxy's upgrade hook (ingress mode): true when it took the request.
  readonly onUpgrade = (req: IncomingMessage, socket: net.Socket, head: Buffer, done: () => void): boolean => {
    if (this.o.mode !== 'ingress') return false;
    return handleTcpUpgrade(this.ingressContext, req, socket, head, done);
  };

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // What this gateway listens on itself at a scope's host.
  private reserved(scope: TcpScope): ReadonlyMap<number, string> {
    const o = this.o;
    const host = scope === 'public' ? (o.publicHost ?? (o.http ?? o.https)?.host) : o.mesh?.http?.host;
    const own = new Map<number, string>();
    const add = (at: HostPort | undefined, port: number | undefined, what: string) => {
      if (at !== undefined && port !== undefined && port !== 0 && host !== undefined && sameBindHost(at.host, host)) own.set(port, what);
    };
    add(o.http, o.boundPort('http') ?? o.http?.port, `this proxy's --http listener (port ${o.boundPort('http') ?? o.http?.port})`);
    add(o.https, o.boundPort('https') ?? o.https?.port, `this proxy's --https listener (port ${o.boundPort('https') ?? o.https?.port})`);
    add(o.mesh?.http, o.mesh?.http?.port, `this proxy's --mesh-http listener (port ${o.mesh?.http?.port})`);
    add(o.mesh?.https, o.mesh?.https?.port, `this proxy's --mesh-https listener (port ${o.mesh?.https?.port})`);
    return own;
  }

  private defaultCallerCheck(address: string): string | undefined {
    const networks = this.view.regions.get(this.view.region)?.spec.instanceNetworks;
    if (this.callers === undefined || this.callers.networks !== networks) this.callers = { networks, policy: new InstanceAddressPolicy(networks) };
    const verdict = this.callers.policy.check(address);
    return verdict.ok ? undefined : verdict.reason;
  }
}

// Whether listeners on these two hosts would take the same port.
function sameBindHost(a: string, b: string): boolean {
  const any = (h: string) => h === '0.0.0.0' || h === '::' || h === '';
  return a === b || any(a) || any(b);
}
