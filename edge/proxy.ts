// The request path's entry: the listeners hand every request (and every
// protocol upgrade) here, and it starts the stack of request/ (edge/README.md):
// an Exchange per request (request/exchange.ts), an UpgradeExchange per
// WebSocket upgrade (request/upgrade-exchange.ts); a meridian-tcp upgrade at
// an ingress goes to tcp/. It is what the exchanges read
// (request/exchange-context.ts): the router and backends the current view
// compiled into (the control side swaps them in applyView), what all
// requests share, and the count of requests in flight for the drain.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../lib/observability/logger';
import type { BackendSet } from './backend/backend-set';
import type { EdgeView } from './config/edge-view';
import type { IngressAuthorizer } from './identity/ingress-authorizer';
import type { ConnectionTracker } from './listener/connection-tracker';
import type { AccessLog } from './observability/access-log';
import type { EdgeMetrics, ServiceMetrics } from './observability/edge-metrics';
import type { ClientRequest, ClientResponse } from './request/client-types';
import type { ExchangeContext, ProxyMode, RequestEntry } from './request/exchange-context';
import type { MeshAuthorizer } from './identity/mesh-authorizer';
import { Exchange } from './request/exchange';
import { UpgradeExchange } from './request/upgrade-exchange';
import type { ForwardingOptions } from './router/forwarded-headers';
import { Router } from './router/router';

export type { ProxyMode };

export interface ProxyOptions
  extends Pick<ExchangeContext, 'mode' | 'name' | 'region' | 'maxHops' | 'backends' | 'accessLog' | 'forwarding' | 'logger' | 'openIngressConnection'> {
  metrics: EdgeMetrics;
  connections: ConnectionTracker;
  // An ingress in controlled mode: the mTLS checks of callers on its HTTPS listener.
  authorizer?: IngressAuthorizer;
  // An edge with a mesh listener: the checks of the region's workloads.
  meshAuthorizer?: MeshAuthorizer;
  // Takes an upgrade to a TCP connection (true; done runs once it closed), or leaves it (false).
  tcpUpgrade?: (req: IncomingMessage, socket: Socket, head: Buffer, done: () => void) => boolean;
}

export class Proxy implements ExchangeContext {
  readonly mode: ProxyMode;
  readonly name: string;
  readonly region: string;
  readonly maxHops: number;
  readonly backends: BackendSet;
  readonly accessLog: AccessLog;
  readonly forwarding: ForwardingOptions;
  readonly logger: Logger;
  readonly openIngressConnection: (address: string) => Socket;
  readonly authorizer: IngressAuthorizer | undefined;
  readonly meshAuthorizer: MeshAuthorizer | undefined;
  readonly meshListenerPorts = new Set<number>();
  // Requests answered before a service was known (404, 508...).
  readonly unrouted: ServiceMetrics;
  router = new Router([], []);
  private appliedViewId = 0;
  inFlight = 0;
  draining = false;
  private readonly connections: ConnectionTracker;
  private readonly tcpUpgrade: ProxyOptions['tcpUpgrade'];
  private idleWaiters: (() => void)[] = [];

  // The listeners' request callbacks, one per scheme, made once.
  readonly onHttpRequest = (req: ClientRequest, res: ClientResponse): void => this.handle(req, res, 'http');
  readonly onHttpsRequest = (req: ClientRequest, res: ClientResponse): void => this.handle(req, res, 'https');
  readonly onMeshHttpRequest = (req: ClientRequest, res: ClientResponse): void => this.handle(req, res, 'http', 'mesh');
  readonly onMeshHttpsRequest = (req: ClientRequest, res: ClientResponse): void => this.handle(req, res, 'https', 'mesh');
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.handleUpgrade(req, socket, head);

  constructor(options: ProxyOptions) {
    this.mode = options.mode;
    this.name = options.name;
    this.region = options.region;
    this.maxHops = options.maxHops;
    this.backends = options.backends;
    this.accessLog = options.accessLog;
    this.forwarding = options.forwarding;
    this.connections = options.connections;
    this.logger = options.logger;
    this.openIngressConnection = options.openIngressConnection;
    this.authorizer = options.authorizer;
    this.meshAuthorizer = options.meshAuthorizer;
    this.tcpUpgrade = options.tcpUpgrade;
    this.unrouted = options.metrics.forService('none');
  }

  applyView(view: EdgeView): void {
    // The router depends on Services and TrafficRoutes only; a view whose
    // changes (relative to the one applied last) are not `all` left both alone.
    const c = view.changes;
    const routingSame = c !== undefined && !c.all && c.baseId !== 0 && c.baseId === this.appliedViewId;
    if (!routingSame) this.router = new Router(view.services.values(), view.trafficRoutes.values());
    this.appliedViewId = c?.id ?? 0;
    this.backends.apply(view);
    this.authorizer?.setPermissions(view.trafficPermissions.values());
    this.meshAuthorizer?.setView(view);
  }

  handle(req: ClientRequest, res: ClientResponse, scheme: 'http' | 'https', entry: RequestEntry = 'public'): void {
    this.inFlight++;
    this.connections.requestStarted(req);
    new Exchange(this, req, res, scheme, entry).start();
  }

  exchangeDone(req: ClientRequest): void {
    this.inFlight--;
    this.connections.requestDone(req);
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // Resolves when no request is in progress.
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // HTTP/1.1 protocol upgrades (WebSocket): routed like a request, then the
  // two sockets piped. In flight until both sides closed, so a drain gives
  // open WebSockets the drain period before it closes them.
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.inFlight++;
    this.connections.requestStarted(req);
    if (this.tcpUpgrade?.(req, socket as Socket, head, () => this.exchangeDone(req))) return;
    new UpgradeExchange(this, req, socket as Socket, head).start();
  }
}
