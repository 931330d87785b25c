// The zone controller of one region: joins the global controller, keeps the
// region's instances and their health, serves the region's proxies their
// view, answers DNS for *.mesh, and keeps serving from what it holds while
// the global controller is away.
import * as http from 'node:http';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../lib/observability/logger';
import { createRegistry, prom, type Registry } from '../lib/observability/metrics';
import type { RegionResource, ServiceResource } from '../lib/resources';
import { alwaysRefused, InstanceAddressPolicy } from '../lib/net/instance-address-policy';
import { InstanceTokenPolicyStore } from './registry/instance-token-policy-store';
import type { ZoneReport } from '../proto/generated/meridian/federation/v1/ZoneReport';
import { GlobalState } from './state/global-state';
import { InstanceRegistry, type InstanceChange } from './registry/instance-registry';
import { ServiceCounts } from './registry/service-counts';
import { createRegistryApiHandler } from './registry/registry-api';
import { DEFAULT_REGISTRY_CAPS, type RegistryCaps } from './registry/registry-caps';
import { HealthChecker } from './health/health-checker';
import { MeshDnsServer } from './dns/mesh-dns-server';
import { MeshNameResolver } from './dns/mesh-name-resolver';
import { DiscoveryView } from './discovery/discovery-view';
import { DiscoveryServer } from './discovery/discovery-server';
import { ProxyReports } from './discovery/proxy-reports';
import { FederationClient } from './federation/federation-client';
import { healthTargets } from './zone-health-targets';
import { TunnelManager, type TunnelOptions } from './tunnel/tunnel-manager';
import { ZoneCa } from './identity/zone-ca';
import { ZoneLeaf } from './identity/zone-leaf';
import { FederationCredentials } from './federation/federation-credentials';
import { ProxyAuth } from './discovery/proxy-auth';
import { MeshServerCredentials } from '../lib/grpc/mesh-credentials';
import type { ProxyToken } from '../lib/auth/proxy-token';
import { DEFAULT_LEAF_LIFETIME_MS, LeafIssuer } from './identity/leaf-issuer';
import { WorkloadCertificateIssuer } from './identity/workload-certificates';
import { peekJoinToken } from '../lib/auth/join-token-payload';
import { decideLocalAdminAccess } from '../lib/auth/local-admin-access';
import type { DataKey } from '../lib/pki';

export interface ZoneControllerOptions {
  region: string;
  globalAddress: string;
  joinToken: string;
  http: { host: string; port: number };
  grpcAddress: string;
  dns: { host: string; port: number };
  stateDir: string;
  // host:port of this region's zone ingress, as other regions reach it.
  ingressAddress: string;
  // The region's proxy bootstrap token: with it the discovery port runs mTLS
  // (and carries Certificate resources); without it, plaintext.
  proxyToken?: ProxyToken;
  logger?: Logger;
  // The WireGuard backhaul; without it, other regions' ingresses are reached directly.
  tunnel?: Omit<TunnelOptions, 'stateDir' | 'stateKey'>;
  // Life of the leaf certificates signed for the region's proxies (default 24 h).
  leafLifetimeMs?: number;
  // Seals the zone CA key and the WireGuard key in stateDir; without it they
  // are kept in memory only (a restart needs a new join token).
  stateKey?: DataKey;
  // Caps on the instance registry (DEFAULT_REGISTRY_CAPS when absent).
  registryCaps?: RegistryCaps;
}

export class ZoneController {
  readonly logger: Logger;
  readonly state: GlobalState;
  readonly registry: InstanceRegistry;
  // Checks the instance tokens of registrations, also while the global controller is away.
  readonly instanceTokens: InstanceTokenPolicyStore;
  private readonly counts: ServiceCounts;
  readonly federation: FederationClient;
  private readonly health: HealthChecker;
  private readonly view: DiscoveryView;
  private readonly discovery: DiscoveryServer;
  private readonly proxyReports = new ProxyReports();
  private readonly dns: MeshDnsServer;
  private readonly httpServer: http.Server;
  readonly tunnel: TunnelManager | undefined;
  readonly zoneCa: ZoneCa;
  // The zone's own certificate: federation client (mTLS), discovery server.
  readonly zoneLeaf: ZoneLeaf;
  // The discovery port's TLS (the zone leaf), when it runs mTLS.
  private readonly discoveryTls: MeshServerCredentials | undefined;
  // Whether the federation stream was opened with the zone leaf, and the
  // zone CA certificate of that leaf (named in Hello).
  private federationMutual = false;
  private federationZoneCa = '';
  private trafficTimer: NodeJS.Timeout | undefined;
  readonly metrics: Registry;
  httpPort = 0;
  grpcPort = 0;
  dnsPort = 0;

  constructor(private readonly opts: ZoneControllerOptions) {
    this.metrics = createRegistry('zone-controller', true, { zone: opts.region });
    this.logger = opts.logger ?? createLogger('zone-controller', { region: opts.region });
    fs.mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    this.state = new GlobalState(path.join(opts.stateDir, 'global-state.json'));
    const loaded = this.state.load();
    if (loaded.problem) this.logger.error(loaded.problem);
    else if (loaded.loaded) this.logger.info({ version: this.state.version, resources: this.state.resources.size }, 'serving from the saved global state until the global controller answers');

    this.registry = new InstanceRegistry({ filePath: path.join(opts.stateDir, 'instances.json'), logger: this.logger });
    // Saved by a build that took any address: those no Region may have go.
    for (const i of this.registry.list()) {
      const refused = alwaysRefused(i.address);
      if (refused) {
        this.logger.error({ instance: i.id, service: i.service, reason: refused }, 'dropping a saved instance at an address that is always refused');
        this.registry.deregister(i.id);
      }
    }
    this.instanceTokens = new InstanceTokenPolicyStore(path.join(opts.stateDir, 'instance-token-policy.json'), this.logger);
    this.instanceTokens.load();
    this.counts = new ServiceCounts(this.registry);
    this.health = new HealthChecker({
      logger: this.logger,
      onChange: (id, healthy) => {
        this.registry.setHealth(id, healthy);
        this.logger.info({ instance: id, healthy }, 'instance health changed');
      },
    });
    this.tunnel = opts.tunnel ? new TunnelManager(opts.region, { ...opts.tunnel, stateDir: opts.stateDir, stateKey: opts.stateKey }, this.state, this.logger) : undefined;
    this.view = new DiscoveryView(opts.region, this.state, this.registry, 10, this.tunnel);
    const meshNames = new MeshNameResolver(
      {
        serviceExists: (s) => this.service(s) !== undefined,
        healthyAnywhere: (s) => this.healthyAnywhere(s),
        meshAddresses: () => this.proxyReports.meshAddresses(),
      },
      this.logger,
    );
    this.dns = new MeshDnsServer({ host: opts.dns.host, port: opts.dns.port, resolve: (s) => meshNames.resolve(s), logger: this.logger });
    const { trustDomain, rootFingerprint } = peekJoinToken(opts.joinToken);
    if (!trustDomain || !rootFingerprint) {
      throw new Error('the join token names no trust domain or root CA fingerprint (made by an older global controller): create a new one with meridian token create');
    }
    this.zoneCa = new ZoneCa(opts.stateDir, opts.region, trustDomain, this.logger, opts.stateKey);
    this.zoneLeaf = new ZoneLeaf(this.zoneCa, this.logger);
    const federationCredentials = new FederationCredentials({ globalAddress: opts.globalAddress, trustDomain, rootFingerprint, leaf: this.zoneLeaf });
    const leaves = new LeafIssuer(this.zoneCa, opts.leafLifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS, this.metrics, this.logger);
    this.discovery = new DiscoveryServer(this.view, opts.region, this.logger, this.proxyReports, leaves);
    if (opts.proxyToken) {
      const discoveryTls = new MeshServerCredentials();
      this.discoveryTls = discoveryTls;
      this.discovery.auth = new ProxyAuth({ trustDomain, region: opts.region, tokenSecret: opts.proxyToken.secret });
      this.view.withCertificates = true;
      // The roots go along with the chain so a proxy can pin its root on first contact.
      this.zoneLeaf.on('change', () => {
        const m = this.zoneLeaf.material();
        if (m.certChainPem) discoveryTls.update({ ...m, certChainPem: m.certChainPem + m.rootsPem.join('') });
      });
    }
    this.federation = new FederationClient({
      globalAddress: opts.globalAddress,
      region: opts.region,
      joinToken: opts.joinToken,
      zoneId: `${opts.region}-${randomUUID().slice(0, 8)}`,
      state: this.state,
      logger: this.logger,
      report: (full) => this.report(full),
      credentials: async () => {
        const credentials = await federationCredentials.get();
        this.federationMutual = federationCredentials.mutual;
        this.federationZoneCa = this.federationMutual ? this.zoneLeaf.issuerPem : '';
        return credentials;
      },
      zoneCaCsr: () => this.zoneCa.helloCsr(),
      zoneCaCertificate: () => this.federationZoneCa,
      onZoneCa: (certificate, bundle) => {
        void this.zoneCa.accept(certificate, bundle).catch((err) => this.logger.error({ err: (err as Error).message }, 'cannot store the zone CA'));
      },
      onInstanceTokens: (policy) => {
        try {
          this.instanceTokens.accept(policy);
        } catch (err) {
          this.logger.error({ err: (err as Error).message }, 'refused an instance token policy from the global controller; keeping the one held');
        }
      },
    });
    this.zoneCa.on('renew', (csr) => this.federation.renewZoneCa(csr));
    // The first join went on the token alone: once the zone leaf exists, come
    // back over mTLS (after the first snapshot and regions view, which would
    // otherwise be sent again). Renewals need no reconnect: the next
    // connection uses them.
    this.zoneLeaf.on('change', () => {
      if (this.zoneLeaf.ready && !this.federationMutual) this.federation.reconnect();
    });

    const refused = new prom.Counter({
      name: 'meridian_zone_registry_refused_total',
      help: 'Registry API requests refused by a cap (instances-per-zone, instances-per-service, labels..., requests-per-second)',
      labelNames: ['cap'],
      registers: [this.metrics],
    });
    const registryApi = createRegistryApiHandler({
      registry: this.registry,
      caps: opts.registryCaps ?? DEFAULT_REGISTRY_CAPS,
      onRefused: (cap) => refused.inc({ cap }),
      knownService: (name) => !!this.service(name),
      region: opts.region,
      verifyToken: (token) => this.instanceTokens.verify(token),
      addressPolicy: () => this.addressPolicy(),
      logger: this.logger,
      workloadCertificates: new WorkloadCertificateIssuer(this.zoneCa, opts.leafLifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS, this.metrics, this.logger),
    });
    this.httpServer = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      if (registryApi(req, res)) return;
      void this.serveOwn(req, res);
    });
    this.httpServer.on('clientError', (_e, socket) => socket.destroy());

    // A change to an instance re-targets its checks and is reported up.
    this.registry.on('change', (c) => {
      this.syncHealthCheck(c);
      this.federation.reportChanged();
    });
    this.proxyReports.on('change', (urgent: boolean) => {
      if (urgent) this.federation.reportChanged();
    });
    this.tunnel?.on('change', () => {
      this.view.markAllRegions();
      this.federation.reportChanged();
    });
    this.state.on('resources', (keys) => {
      if (keys.some((k) => k.startsWith('Service/'))) this.syncHealthChecks();
    });
    this.registerMetrics();
  }

  private service(name: string): ServiceResource | undefined {
    return this.state.get<ServiceResource>('Service', name);
  }

  // Built again only when the Region's networks change.
  private addressPolicyCache: { networks: readonly string[] | undefined; policy: InstanceAddressPolicy } | undefined;

  // The Region's instance networks as this zone holds them (the private
  // ranges until it has its Region).
  private addressPolicy(): InstanceAddressPolicy {
    const networks = this.state.get<RegionResource>('Region', this.opts.region)?.spec.instanceNetworks;
    if (!this.addressPolicyCache || this.addressPolicyCache.networks !== networks) {
      this.addressPolicyCache = { networks, policy: new InstanceAddressPolicy(networks) };
    }
    return this.addressPolicyCache.policy;
  }

  private syncHealthChecks(): void {
    const instances = this.registry.list();
    this.health.sync(healthTargets(instances, (n) => this.service(n)));
    // An instance of a service the mesh no longer has cannot be healthy.
    for (const i of instances) if (i.healthy && !this.service(i.service)) this.registry.setHealth(i.id, false);
  }

  // One instance changed: only its checks change (a health change leaves them).
  private syncHealthCheck(c: InstanceChange): void {
    if (c.type === 'health') return;
    const current = c.type === 'deregistered' ? undefined : this.registry.get(c.instance.id);
    this.health.syncOne(c.instance.id, current && healthTargets([current], (n) => this.service(n))[0]);
    if (current?.healthy && !this.service(current.service)) this.registry.setHealth(current.id, false);
  }

  // Whether this region or any online one has a healthy instance of the
  // service (<service>.mesh exists only then).
  private healthyAnywhere(service: string): boolean {
    if ((this.counts.get(service)?.healthy ?? 0) > 0) return true;
    return [...this.state.regions.values()].some(
      (r) => r.region !== this.opts.region && r.online && (this.state.regionService(r.region, service)?.healthy ?? 0) > 0,
    );
  }

  // Counts per service, not instances: every service on a new stream, then what changed.
  private report(full: boolean): ZoneReport {
    const counts = this.counts.take(full);
    return {
      region: this.opts.region,
      services: counts.services.map((c) => ({ ...c, load: 0 })),
      servicesPartial: counts.partial,
      removedServices: counts.removed,
      ingressAddress: this.opts.ingressAddress,
      dnsAddress: `${this.opts.dns.host}:${this.dnsPort}`,
      httpAddress: `${this.opts.http.host}:${this.httpPort}`,
      tunnel: this.tunnel?.tunnel ?? null,
      peers: this.tunnel?.peers() ?? [],
      edges: this.edges(),
      load: this.proxyReports.load(),
    };
  }

  // Every proxy connected to discovery, with what it reported about itself.
  private edges(): ZoneReport['edges'] {
    const reported = new Map(this.proxyReports.all().map((r) => [r.proxy, r]));
    const names = new Map<string, string>();
    for (const p of this.discovery.proxies.values()) names.set(p.proxy, p.mode);
    for (const r of reported.values()) names.set(r.proxy, r.mode);
    return [...names].sort().map(([name, mode]) => {
      const r = reported.get(name);
      return {
        name,
        mode,
        healthy: r?.healthy ?? true,
        announcing: r?.announcing ?? false,
        requestRate: r?.requestRate ?? 0,
        errorRate: r?.errorRate ?? 0,
        p99Ms: r?.p99Ms ?? 0,
      };
    });
  }

  private async serveOwn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2) + '\n');
    };
    if (req.method === 'GET' && url === '/healthz') {
      return json(200, { ok: true, region: this.opts.region, federated: this.federation.isConnected, version: this.state.version });
    }
    if (req.method === 'GET' && url === '/metrics') {
      res.writeHead(200, { 'content-type': this.metrics.contentType });
      return void res.end(await this.metrics.metrics());
    }
    if (req.method === 'GET' && url === '/v1/state') {
      // Identities, addresses and the proxies of the region: for this host only.
      const access = decideLocalAdminAccess({ remoteAddress: req.socket.remoteAddress, authorization: undefined });
      if (!access.allowed) return json(access.status, { error: `/v1/state: ${access.reason}` });
      return json(200, {
        region: this.opts.region,
        federated: this.federation.isConnected,
        lastError: this.federation.lastError ?? null,
        zoneCa: this.zoneCa.ready ? { identity: this.zoneCa.identity, trustBundle: this.zoneCa.trustBundle.length } : null,
        // mTLS: the federation stream presents the zone leaf (after the first join).
        federationTls: { clientCertificate: this.zoneLeaf.ready },
        discoveryTls: { mutual: !!this.discoveryTls, serving: !!this.discoveryTls && this.zoneLeaf.ready },
        version: this.state.version,
        resources: [...this.state.resources.keys()].sort(),
        regions: [...this.state.regions.values()],
        proxies: [...this.discovery.proxies.values()],
      });
    }
    json(404, { error: `no such endpoint: ${req.method} ${url}` });
  }

  private registerMetrics(): void {
    const registry = this.registry;
    new prom.Gauge({
      name: 'meridian_zone_instances',
      help: 'Registered instances of this region by service and health',
      labelNames: ['service', 'healthy'],
      registers: [this.metrics],
      collect() {
        this.reset();
        for (const i of registry.list()) this.inc({ service: i.service, healthy: String(i.healthy) });
      },
    });
    const federation = this.federation;
    new prom.Gauge({
      name: 'meridian_zone_federation_connected',
      help: '1 while the stream to the global controller is up',
      registers: [this.metrics],
      collect() {
        this.set(federation.isConnected ? 1 : 0);
      },
    });
    const state = this.state;
    new prom.Gauge({
      name: 'meridian_zone_global_version',
      help: 'Version of the global state this zone holds',
      registers: [this.metrics],
      collect() {
        this.set(state.version);
      },
    });
    const proxies = this.discovery.proxies;
    new prom.Gauge({
      name: 'meridian_zone_discovery_proxies',
      help: 'Proxies connected to the discovery stream',
      registers: [this.metrics],
      collect() {
        this.set(proxies.size);
      },
    });
  }

  async start(): Promise<void> {
    // The keys (made on the thread pool) while the listeners come up: the
    // leaf's alongside the zone CA's.
    const caPrepared = this.zoneCa.prepare();
    const leafStarted = this.zoneLeaf.start();
    // Reported where awaited; not unhandled while the listeners come up.
    caPrepared.catch(() => undefined);
    leafStarted.catch(() => undefined);
    this.httpPort = await new Promise<number>((resolve, reject) => {
      this.httpServer.once('error', (err) => reject(new Error(`cannot listen on ${this.opts.http.host}:${this.opts.http.port}: ${err.message}`)));
      this.httpServer.listen(this.opts.http.port, this.opts.http.host, () => resolve((this.httpServer.address() as { port: number }).port));
    });
    // With TLS, connections are turned away until the zone leaf exists (after the first join).
    this.grpcPort = await this.discovery.listen(this.opts.grpcAddress, this.discoveryTls?.credentials);
    await this.dns.start();
    this.dnsPort = this.dns.address().port;
    this.syncHealthChecks();
    await this.tunnel?.start();
    leafStarted.catch((err) => this.logger.error({ err: (err as Error).message }, 'cannot make the zone leaf key'));
    // The first Hello waits for the zone CA key: a new zone sends its CSR with
    // the join token and gets its zone CA in Welcome, so the single-use token
    // is spent exactly when it buys the CA (a stream lost in between leaves
    // the token unspent). A zone that holds a zone CA rejoins over mTLS at
    // once: its leaf first.
    await caPrepared;
    if (this.zoneCa.ready) await leafStarted;
    this.federation.start();
    this.proxyReports.start();
    // Traffic figures go up with the heartbeat rhythm rather than on every report.
    this.trafficTimer = setInterval(() => this.federation.reportChanged(), 2000);
    this.trafficTimer.unref();
    this.logger.info({ http: this.httpPort, grpc: this.grpcPort, dns: this.dnsPort, global: this.opts.globalAddress }, 'zone controller serving');
  }

  async stop(): Promise<void> {
    this.federation.stop();
    this.proxyReports.stop();
    this.zoneCa.stop();
    this.zoneLeaf.stop();
    clearInterval(this.trafficTimer);
    await this.tunnel?.stop();
    this.health.stop();
    this.view.stop();
    this.httpServer.closeAllConnections();
    await Promise.allSettled([
      new Promise<void>((r) => this.httpServer.close(() => r())),
      this.discovery.close(),
      this.dns.stop(),
    ]);
    await Promise.allSettled([this.state.flush(), this.registry.flush(), this.instanceTokens.flush()]);
  }
}
