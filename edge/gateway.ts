// EdgeGateway: one edge (or zone ingress) in one process. It wires a view
// source to the proxy (every new view is compiled into the router and the
// backends), starts the listeners and the admin server, and drains on
// request: beforeDrain hook (the anycast controller withdraws the route there),
// stop accepting, let requests in flight finish within the drain period,
// close idle keep-alive connections, then close everything.
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../lib/observability/logger';
import type { Registry } from '../lib/observability/metrics';
import { BackendSet } from './backend/backend-set';
import type { EdgeView, ViewSource } from './config/edge-view';
import type { GatewayObserver } from './observability/gateway-observer';
import { emptyView } from './config/edge-view';
import { ConnectionTracker } from './listener/connection-tracker';
import { DEFAULT_LIMITS, type ListenerLimits } from './listener/limits';
import { Listeners, type HostPort } from './listener/listeners';
import type { Http1Engine } from './listener/http-listener';
import { SecureContextStore, type CertificatePair, type ClientAuth } from './listener/secure-contexts';
import { AccessLog, DEFAULT_ACCESS_LOG_SAMPLE, type AccessLogQuery } from './observability/access-log';
import type { OtlpExporter } from '../lib/tracing/otlp-exporter';
import { AdminServer } from './observability/admin-server';
import { EdgeMetrics } from './observability/edge-metrics';
import { Proxy, type ProxyMode } from './proxy';
import { RequestIdGenerator } from './router/request-id';
import { TrustedProxies } from './router/trusted-proxies';
import { createInstancePool, DEFAULT_CONNECTIONS_PER_INSTANCE } from './upstream/instance-pool';
import { RemoteIngressPools, type MeshTlsFiles } from './upstream/remote-ingress-pool';
import { IngressAuthorizer } from './identity/ingress-authorizer';
import { MeshAuthorizer } from './identity/mesh-authorizer';
import { MeshHttpPorts } from './mesh/mesh-http-ports';
import type { MeshCredentials, MeshIdentity } from './identity/mesh-identity';
import { parseIdentity } from '../lib/pki';
import type pino from 'pino';
import { DEFAULT_TCP_MAX_CONNECTIONS, type MeshListenerOptions, type TcpListenerOptions } from './mesh/mesh-options';
import { TcpProxying } from './tcp/tcp-proxying';

export interface EdgeGatewayOptions {
  mode: ProxyMode;
  name: string;
  region: string;
  source: ViewSource;
  http?: HostPort;
  https?: HostPort;
  redirectHttp?: boolean;
  // Certificates of the HTTPS listener, by SNI; the first is the default.
  certificates?: CertificatePair[];
  // Client certificate checking on the HTTPS listener (ingress mTLS).
  clientAuth?: ClientAuth;
  // This proxy's mesh identity, for the connections of an edge to remote
  // ingresses (TLS + HTTP/2 when given).
  meshTls?: MeshTlsFiles;
  // Controlled mode: this proxy's leaf from the zone controller, already
  // issued (start() resolved). It replaces meshTls; an ingress serves it on
  // its HTTPS listener (unless `certificates` are given) and checks callers
  // per request (IngressAuthorizer). Renewals swap it without a dropped request.
  meshIdentity?: MeshIdentity;
  limits?: Partial<ListenerLimits>;
  // Who speaks HTTP/1.1 on the plain listeners and to local instances:
  // Meridian's own path (fast, the default) or node:http and undici (node).
  http1Engine?: Http1Engine;
  // The listener of the region's own workloads (<service>.mesh).
  mesh?: MeshListenerOptions;
  tcp?: TcpListenerOptions;
  admin?: HostPort;
  // sha256 of the token that lets other hosts read /v1/view.
  adminTokenDigest?: Buffer;
  drainPeriodMs?: number;
  maxHops?: number;
  accessLogSample?: number;
  // What access-log lines keep of query strings (default: redacted).
  accessLogQuery?: AccessLogQuery;
  // Peers whose forwarding headers an edge keeps (default: none).
  trustedProxies?: TrustedProxies;
  accessLogStream?: pino.DestinationStream;
  // Where the spans of sampled requests also go (--otlp-endpoint).
  otlp?: OtlpExporter;
  connectionsPerInstance?: number;
  registry?: Registry;
  logger?: Logger;
  beforeDrain?: () => Promise<void> | void;
}

export const DEFAULT_DRAIN_PERIOD_MS = 10_000;
// The trust domain of a mesh listener's network identities without a mesh leaf (static mode).
const DEFAULT_TRUST_DOMAIN = 'meridian.local';
export const DEFAULT_MAX_HOPS = 2;

export class EdgeGateway {
  readonly proxy: Proxy;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  readonly contexts: SecureContextStore | undefined;
  readonly tcp: TcpProxying;
  // Called first when draining, so the anycast address is withdrawn before the
  // listeners stop accepting (edge-addons.ts sets it).
  beforeDrain: (() => Promise<void> | void) | undefined;
  private view: EdgeView;
  private readonly connections = new ConnectionTracker();
  private readonly listeners: Listeners;
  private readonly ingressPools: RemoteIngressPools;
  private readonly authorizer: IngressAuthorizer | undefined;
  private readonly meshAuthorizer: MeshAuthorizer | undefined;
  // The mesh listener on the Services' other HTTP ports.
  private meshHttpPorts: MeshHttpPorts | undefined;
  private readonly backends: BackendSet;
  private readonly accessLog: AccessLog;
  private admin: AdminServer | undefined;
  private adminAddr: AddressInfo | undefined;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private readonly startedAt = Date.now();
  private readonly observers: GatewayObserver[] = [];

  constructor(private readonly options: EdgeGatewayOptions) {
    this.logger = options.logger ?? createLogger('edge', { name: options.name, region: options.region, mode: options.mode });
    this.metrics = new EdgeMetrics(options.registry);
    this.beforeDrain = options.beforeDrain;
    this.view = emptyView(options.region, options.source.kind);
    this.accessLog = new AccessLog(
      options.accessLogSample ?? DEFAULT_ACCESS_LOG_SAMPLE,
      { edge: options.name, edgeRegion: options.region, mode: options.mode },
      options.accessLogStream,
      options.otlp,
      options.accessLogQuery,
    );
    const connections = options.connectionsPerInstance ?? DEFAULT_CONNECTIONS_PER_INSTANCE;
    const poolEngine = options.http1Engine === 'node' ? 'undici' : 'fast';
    this.ingressPools = new RemoteIngressPools({ connectTimeoutMs: 2_000, connections, tls: options.meshTls });
    const mesh = options.meshIdentity?.current;
    if (options.meshIdentity && !mesh) throw new Error('meshIdentity: start it (the first certificate) before the gateway');
    if (mesh) this.ingressPools.setMaterial(poolMaterial(mesh));
    this.authorizer =
      mesh && options.mode === 'ingress' ? new IngressAuthorizer(mesh.trustBundle, parseIdentity(mesh.identity).trustDomain, this.metrics.registry, this.logger) : undefined;
    this.meshAuthorizer = options.mesh
      ? new MeshAuthorizer(options.region, mesh ? parseIdentity(mesh.identity).trustDomain : DEFAULT_TRUST_DOMAIN, mesh?.trustBundle ?? [], this.metrics.registry, this.logger)
      : undefined;
    this.backends = new BackendSet(
      {
        mode: options.mode,
        localRegion: options.region,
        createInstancePool: (address, port, connectTimeoutMs, http2) => createInstancePool(address, port, { connectTimeoutMs, connections, http2, engine: poolEngine }),
        ingressPools: this.ingressPools,
        logger: this.logger,
      },
      this.metrics,
    );
    this.tcp = new TcpProxying({
      mode: options.mode, name: options.name, region: options.region, http: options.http, https: options.https, mesh: options.mesh,
      maxConnections: options.tcp?.maxConnections ?? DEFAULT_TCP_MAX_CONNECTIONS,
      publicHost: options.tcp?.host,
      boundPort: (which) => this.listeners.address(which)?.port,
      // Each port of a Service has its backend: its instances at their port for it.
      backendFor: (service, port) => this.backends.get(service, port),
      meshCallerCheck: (address, service) => this.meshAuthorizer?.checkConnection(address, service),
      sourceIdentity: (_address, _service, scope) => (scope === 'mesh' ? this.meshAuthorizer?.networkIdentity : undefined),
      openIngressConnection: (address) => this.ingressPools.upgradeConnection(address),
      authorizer: this.authorizer,
      maxHops: options.maxHops ?? DEFAULT_MAX_HOPS,
      draining: () => this.proxy.draining,
      registry: this.metrics.registry,
      logger: this.logger,
    });
    this.proxy = new Proxy({
      mode: options.mode,
      name: options.name,
      region: options.region,
      maxHops: options.maxHops ?? DEFAULT_MAX_HOPS,
      backends: this.backends,
      metrics: this.metrics,
      accessLog: this.accessLog,
      forwarding: { trustForwarded: options.mode === 'ingress', trustedProxies: options.trustedProxies ?? TrustedProxies.NONE, ids: new RequestIdGenerator() },
      connections: this.connections,
      logger: this.logger,
      openIngressConnection: (address) => this.ingressPools.upgradeConnection(address),
      authorizer: this.authorizer,
      meshAuthorizer: this.meshAuthorizer,
      tcpUpgrade: this.tcp.onUpgrade,
    });
    const servesMeshLeaf = this.authorizer !== undefined && !(options.certificates && options.certificates.length > 0);
    const certificates = servesMeshLeaf ? [listenerPair(mesh!)] : options.certificates;
    this.contexts = certificates && certificates.length > 0 ? new SecureContextStore(certificates, options.clientAuth) : undefined;
    const meshContexts = options.mesh?.https && mesh ? new SecureContextStore([listenerPair(mesh)]) : undefined;
    options.meshIdentity?.on('renewed', (next) => {
      this.ingressPools.setMaterial(poolMaterial(next));
      this.authorizer?.setTrustBundle(next.trustBundle);
      this.meshAuthorizer?.setTrustBundle(next.trustBundle);
      meshContexts?.setSecureContexts([listenerPair(next)]);
      if (servesMeshLeaf) this.contexts?.setSecureContexts([listenerPair(next)]);
    });
    this.listeners = new Listeners(this.proxy, {
      http: options.http,
      https: options.https,
      redirectHttp: options.redirectHttp ?? false,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      contexts: this.contexts,
      clientAuth: options.clientAuth,
      requestClientCert: this.authorizer !== undefined,
      connections: this.connections,
      metrics: this.metrics,
      meshHttp: options.mesh?.http,
      meshHttps: options.mesh?.https,
      meshContexts,
      http1Engine: options.http1Engine,
    });
  }

  async start(): Promise<void> {
    await this.options.source.start((view) => this.applyView(view));
    await this.listeners.start();
    for (const which of ['mesh-http', 'mesh-https'] as const) {
      const port = this.listeners.address(which)?.port;
      if (port !== undefined) this.proxy.meshListenerPorts.add(port);
    }
    const meshServer = this.listeners.meshHttpServer();
    if (meshServer !== undefined && this.options.mesh?.http) {
      this.meshHttpPorts = new MeshHttpPorts(this.options.mesh.http.host, meshServer, () => this.proxy.meshListenerPorts, this.logger);
      this.meshHttpPorts.apply(this.view);
    }
    await this.tcp.start();
    if (this.options.admin) {
      this.admin = new AdminServer({
        metrics: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
        health: () => this.health(),
        view: () => this.viewSummary(),
      }, { tokenDigest: this.options.adminTokenDigest });
      this.adminAddr = await this.admin.listen(this.options.admin.host, this.options.admin.port);
    }
    this.logger.info(
      {
        http: this.listeners.address('http'),
        https: this.listeners.address('https'),
        ...(this.options.mesh ? { meshHttp: this.listeners.address('mesh-http'), meshHttps: this.listeners.address('mesh-https') } : {}),
        admin: this.adminAddr,
        source: this.options.source.status(),
      },
      `${this.options.mode} started`,
    );
  }

  applyView(view: EdgeView): void {
    const t0 = performance.now();
    this.proxy.applyView(view);
    this.tcp.applyView(view);
    this.meshHttpPorts?.apply(view);
    this.view = view;
    this.metrics.viewVersion.set(view.version);
    for (const o of this.observers) o.onView?.(view);
    this.logger.debug(
      {
        version: view.version,
        ms: Math.round((performance.now() - t0) * 1000) / 1000,
        backendsUpdated: this.backends.lastUpdates,
        incremental: view.changes !== undefined && !view.changes.all,
      },
      'view applied',
    );
  }

  currentView(): EdgeView {
    return this.view;
  }

  // Add before start() to see the first view.
  addObserver(observer: GatewayObserver): void {
    this.observers.push(observer);
  }

  get isDraining(): boolean {
    return this.draining !== undefined;
  }

  httpAddress(): AddressInfo | undefined {
    return this.listeners.address('http');
  }

  httpsAddress(): AddressInfo | undefined {
    return this.listeners.address('https');
  }

  meshHttpAddress(): AddressInfo | undefined {
    return this.listeners.address('mesh-http');
  }

  meshHttpsAddress(): AddressInfo | undefined {
    return this.listeners.address('mesh-https');
  }

  // What the zone DNS gives out for <service>.mesh: this proxy's mesh
  // listener addresses (none without a mesh listener, or while draining).
  meshAddresses(): string[] {
    if (this.draining !== undefined) return [];
    return this.options.mesh?.advertise ?? [];
  }

  adminAddress(): AddressInfo | undefined {
    return this.adminAddr;
  }

  // New listener certificates without dropping a connection.
  setSecureContexts(pairs: CertificatePair[]): void {
    if (!this.contexts) throw new Error('this gateway has no HTTPS listener');
    this.contexts.setSecureContexts(pairs);
  }

  health(): { ok: boolean; status: string; fields?: Record<string, string | number | boolean> } {
    const extra = this.observers.length ? { fields: Object.assign({}, ...this.observers.map((o) => o.healthFields?.() ?? {})) } : {};
    if (this.draining) return { ok: false, status: 'draining', ...extra };
    if (this.options.source.kind === 'discovery' && this.view.version === 0 && this.view.services.size === 0) {
      return { ok: false, status: 'waiting for the first view', ...extra };
    }
    return { ok: true, status: 'ok', ...extra };
  }

  // SIGTERM: resolves when the gateway is closed; requests in flight had
  // until the drain period to finish.
  drain(periodMs = this.options.drainPeriodMs ?? DEFAULT_DRAIN_PERIOD_MS): Promise<void> {
    this.draining ??= this.runDrain(periodMs);
    return this.draining;
  }

  private async runDrain(periodMs: number): Promise<void> {
    const t0 = Date.now();
    this.logger.info({ inFlight: this.proxy.inFlight, drainPeriodMs: periodMs }, 'draining');
    if (this.beforeDrain) {
      try {
        await withDeadline(Promise.resolve(this.beforeDrain()), Math.min(periodMs, 5_000));
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'beforeDrain hook failed; draining anyway');
      }
    }
    this.proxy.draining = true;
    this.listeners.stopAccepting();
    this.tcp.stopAccepting();
    this.meshHttpPorts?.close();
    this.connections.drain();
    const left = Math.max(0, periodMs - (Date.now() - t0));
    const idle = await withDeadline(Promise.all([this.proxy.whenIdle(), this.tcp.whenIdle()]).then(() => true), left).catch(() => false);
    if (!idle) this.logger.warn({ inFlight: this.proxy.inFlight }, 'drain period over; closing the requests still in flight');
    await this.close();
    this.logger.info({ ms: Date.now() - t0 }, 'drained');
  }

  // Immediate stop (tests, second signal).
  async stop(): Promise<void> {
    this.proxy.draining = true;
    this.listeners.stopAccepting();
    this.tcp.stopAccepting();
    this.meshHttpPorts?.close();
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.options.meshIdentity?.stop();
    this.connections.destroyAll();
    this.tcp.close();
    for (const o of this.observers) await o.close?.();
    await this.options.source.stop();
    this.backends.close();
    await this.ingressPools.close();
    await this.admin?.close();
    await this.accessLog.close();
  }

  // This proxy's leaf, what each remote ingress presented, and the callers
  // an ingress verified (identity -> serial last seen).
  private meshIdentitySummary(): Record<string, unknown> | undefined {
    const identity = this.options.meshIdentity;
    const m = identity?.current;
    if (!identity || !m) return undefined;
    return {
      identity: m.identity,
      serial: m.serial,
      notAfter: m.notAfter.toISOString(),
      renewals: identity.renewals,
      ...(identity.lastError ? { lastError: identity.lastError } : {}),
      trustBundle: m.trustBundle.length,
      ingressPeers: this.ingressPools.peers(),
      ...(this.authorizer ? { callers: Object.fromEntries(this.authorizer.peers) } : {}),
    };
  }

  viewSummary(): Record<string, unknown> {
    const now = performance.now();
    const view = this.view;
    const backends: Record<string, unknown> = {};
    for (const name of this.backends.names()) backends[name] = this.backends.summary(name, now);
    return {
      name: this.options.name,
      mode: this.options.mode,
      region: view.region,
      version: view.version,
      source: this.options.source.status(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      draining: this.draining !== undefined,
      inFlight: this.proxy.inFlight,
      connections: this.connections.counts(),
      certificates: this.contexts?.summary(),
      routes: this.proxy.router.summary(),
      services: backends,
      resources: {
        services: [...view.services.keys()].sort(),
        trafficRoutes: [...view.trafficRoutes.keys()].sort(),
        resiliencePolicies: [...view.resiliencePolicies.keys()].sort(),
        failoverPolicies: [...view.failoverPolicies.keys()].sort(),
        regions: [...view.regions.keys()].sort(),
        trafficPermissions: [...view.trafficPermissions.keys()].sort(),
      },
      meshIdentity: this.meshIdentitySummary(),
      tcp: this.tcp.summary(),
      ...(this.meshHttpPorts ? { meshHttpPorts: this.meshHttpPorts.ports() } : {}),
      remoteRegions: [...view.remoteRegions.values()].map((r) => ({
        name: r.name,
        ingressAddress: r.ingressAddress,
        reachable: r.reachable,
        rttMs: r.rttMs,
        ...(r.relayVia !== undefined ? { relayVia: r.relayVia, relayIngressAddress: r.relayIngressAddress } : {}),
        services: Object.fromEntries(r.services),
      })),
      ...Object.assign({}, ...this.observers.map((o) => o.summary?.() ?? {})),
    };
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function poolMaterial(m: MeshCredentials): { cert: string; key: string; ca: string[]; trustDomain: string } {
  return { cert: m.chainPem, key: m.keyPem, ca: m.trustBundle, trustDomain: parseIdentity(m.identity).trustDomain };
}

function listenerPair(m: MeshCredentials): CertificatePair {
  return { cert: Buffer.from(m.chainPem), key: Buffer.from(m.keyPem), source: `mesh certificate ${m.identity} (serial ${m.serial})` };
}
