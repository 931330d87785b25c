// The request pipeline's entry: the listeners hand every request here. The
// proxy holds what the current view compiled into (the router and the
// backends, swapped whole when the view changes) and what is shared by all
// requests (metrics, access log, id generator); each request then runs as an
// Exchange (request/exchange.ts).
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../lib/observability/logger';
import type { BackendSet } from './backend/backend-set';
import type { EdgeView } from './config/edge-view';
import type { ConnectionTracker } from './listener/connection-tracker';
import type { AccessLog } from './observability/access-log';
import type { EdgeMetrics, ServiceMetrics } from './observability/edge-metrics';
import type { ClientRequest, ClientResponse } from './request/client-types';
import { Exchange } from './request/exchange';
import type { ForwardingOptions } from './router/forwarded-headers';
import { Router } from './router/router';

export type ProxyMode = 'edge' | 'ingress';

export interface ProxyOptions {
  mode: ProxyMode;
  // This proxy's name (x-meridian-edge).
  name: string;
  region: string;
  // An edge refuses (508) a request that already passed this many gateways.
  maxHops: number;
  backends: BackendSet;
  metrics: EdgeMetrics;
  accessLog: AccessLog;
  forwarding: ForwardingOptions;
  connections: ConnectionTracker;
  logger: Logger;
}

export class Proxy {
  readonly mode: ProxyMode;
  readonly name: string;
  readonly region: string;
  readonly maxHops: number;
  readonly backends: BackendSet;
  readonly accessLog: AccessLog;
  readonly forwarding: ForwardingOptions;
  readonly logger: Logger;
  // Requests answered before a service was known (404, 508...).
  readonly unrouted: ServiceMetrics;
  router = new Router([], []);
  inFlight = 0;
  draining = false;
  private readonly connections: ConnectionTracker;
  private idleWaiters: (() => void)[] = [];

  // The listeners' request callbacks, one per scheme, made once.
  readonly onHttpRequest = (req: ClientRequest, res: ClientResponse): void => this.handle(req, res, 'http');
  readonly onHttpsRequest = (req: ClientRequest, res: ClientResponse): void => this.handle(req, res, 'https');
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex): void => this.handleUpgrade(req, socket);

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
    this.unrouted = options.metrics.forService('none');
  }

  applyView(view: EdgeView): void {
    this.router = new Router(view.services.values(), view.trafficRoutes.values());
    this.backends.apply(view);
  }

  handle(req: ClientRequest, res: ClientResponse, scheme: 'http' | 'https'): void {
    this.inFlight++;
    this.connections.requestStarted(req);
    new Exchange(this, req, res, scheme).start();
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

  // WebSocket (and other HTTP/1.1 upgrades) is the follow-up issue: this is
  // where the upgrade will be routed like a request and piped to the chosen
  // instance. Until then the gateway says so instead of hanging.
  handleUpgrade(_req: IncomingMessage, socket: Duplex): void {
    const body = 'protocol upgrades (WebSocket) are not supported by this gateway yet\n';
    socket.end(
      `HTTP/1.1 501 Not Implemented\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-meridian-edge: ${this.name}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
}
