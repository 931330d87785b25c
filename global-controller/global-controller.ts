// The global controller: the store on etcd, the federation server, the admin
// API, and the leader's singleton work. One object per replica; main.ts runs
// it from the command line and tests run it in-process.
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import { createLogger, type Logger } from '../lib/observability/logger';
import { createRegistry, type Registry } from '../lib/observability/metrics';
import { ApiTokens } from './auth/api-tokens';
import { JoinSigningKey, JoinSigningKeyError } from './auth/join-signing-key';
import { JoinTokenRecords } from './auth/join-token-records';
import { ZoneSessionRegistry } from './zones/zone-session-registry';
import { createEtcdClient } from './etcd-client';
import { ResourceStore } from './store/resource-store';
import { ZoneStatusStore } from './zones/zone-status-store';
import { OfflineSweeper } from './zones/offline-sweeper';
import { LeaderElection } from './election/leader-election';
import { FederationServer } from './federation/federation-server';
import { FederationTls } from './federation/federation-tls';
import { createFederationMetrics } from './federation/federation-metrics';
import { DEFAULT_APPLY_BODY_LIMIT_BYTES } from './api/apply-limits';
import { AdminServer } from './api/admin-server';
import { AdminTls, type AdminTlsFiles } from './api/admin-tls';
import { RootCaStore } from './identity/root-ca-store';
import { CertificateKeys } from './identity/certificate-keys';
import type { DataKey } from '../lib/pki';
import { DashboardFeed } from './dashboard/dashboard-feed';
import { InstanceTokenSigningKey } from './auth/instance-token-signing-key';
import { InstanceTokenRecords } from './auth/instance-token-records';
import { InstanceTokenFeed } from './federation/instance-token-feed';

export interface GlobalControllerOptions {
  etcdEndpoints: string[];
  grpcAddress: string; // host:port
  // The plaintext admin listener (loopback only; main.ts refuses others); none when undefined.
  httpHost?: string;
  httpPort?: number;
  // The HTTPS admin listener: with the operator's certificate files, or a
  // certificate issued from the mesh root (for the host, localhost and tlsHosts).
  https?: { host: string; port: number; files?: AdminTlsFiles };
  tokens: ApiTokens;
  replica?: string;
  heartbeatIntervalMs?: number;
  leaderTtlSeconds?: number;
  bodyLimitBytes?: number;
  logger?: Logger;
  trustDomain?: string;
  // Seals the root CA's key, Certificate resources' keys and the join signing key in etcd.
  dataKey: DataKey;
  // Host names and addresses the federation certificate names besides its
  // SPIFFE identity (for tools that check host names); the --grpc host is added.
  tlsHosts?: string[];
  importRoot?: { certPem: string; keyPem: string };
}

export class GlobalController {
  readonly replica: string;
  readonly logger: Logger;
  // This replica's /metrics registry.
  readonly metrics: Registry;
  readonly etcd: Etcd3;
  readonly store: ResourceStore;
  readonly zones: ZoneStatusStore;
  readonly sessions: ZoneSessionRegistry;
  readonly election: LeaderElection;
  private readonly sweeper: OfflineSweeper;
  private readonly federation: FederationServer;
  private readonly admin: AdminServer;
  readonly rootCa: RootCaStore;
  private readonly federationTls: FederationTls;
  private readonly adminTls: AdminTls | undefined;
  private readonly feed: DashboardFeed;
  private readonly instanceTokenFeed: InstanceTokenFeed;
  private readonly joinKey: JoinSigningKey;
  grpcPort = 0;
  httpPort = 0;
  httpsPort = 0;

  constructor(private readonly opts: GlobalControllerOptions) {
    this.replica = opts.replica ?? `${hostname()}-${process.pid}`;
    this.logger = opts.logger ?? createLogger('global-controller', { replica: this.replica });
    const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1000;
    const registry = createRegistry('global-controller');
    this.metrics = registry;
    this.etcd = createEtcdClient(opts.etcdEndpoints);
    this.store = new ResourceStore({ etcd: this.etcd, logger: this.logger });
    this.zones = new ZoneStatusStore(this.etcd, this.logger);
    this.election = new LeaderElection(this.etcd, this.replica, this.logger, opts.leaderTtlSeconds ?? 5);
    this.sweeper = new OfflineSweeper(this.zones, this.logger, heartbeatIntervalMs);
    const joinKey = (this.joinKey = new JoinSigningKey(this.etcd, opts.dataKey));
    const joinTokens = new JoinTokenRecords(this.etcd);
    this.sessions = new ZoneSessionRegistry(this.etcd, this.replica, this.logger);
    const trustDomain = opts.trustDomain ?? 'meridian.local';
    const certificateKeys = new CertificateKeys(opts.dataKey, this.logger);
    const instanceTokenKey = new InstanceTokenSigningKey(this.etcd, opts.dataKey);
    const instanceTokenRecords = new InstanceTokenRecords(this.etcd);
    this.instanceTokenFeed = new InstanceTokenFeed({ etcd: this.etcd, signingKey: instanceTokenKey, logger: this.logger });
    this.rootCa = new RootCaStore(this.etcd, opts.dataKey, trustDomain, this.logger);
    const grpcHost = opts.grpcAddress.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    this.federationTls = new FederationTls(this.rootCa, this.logger, { hosts: [grpcHost, 'localhost', '127.0.0.1', hostname(), ...(opts.tlsHosts ?? [])] });
    this.federation = new FederationServer({
      store: this.store,
      zones: this.zones,
      joinKey,
      joinTokens,
      sessions: this.sessions,
      replica: this.replica,
      heartbeatIntervalMs,
      helloTimeoutMs: 10_000,
      viewBatchMs: 10,
      logger: this.logger,
      metrics: createFederationMetrics(registry),
      rootCa: this.rootCa,
      revealDocument: (doc) => certificateKeys.open(doc),
      instanceTokens: this.instanceTokenFeed,
    });
    this.admin = new AdminServer({
      store: this.store,
      zones: this.zones,
      tokens: opts.tokens,
      joinKey,
      joinTokens,
      sessions: this.sessions,
      registry,
      logger: this.logger,
      replica: this.replica,
      isLeader: () => this.election.isLeader,
      bodyLimitBytes: opts.bodyLimitBytes ?? DEFAULT_APPLY_BODY_LIMIT_BYTES,
      trustDomain,
      rootCa: this.rootCa,
      certificateKeys,
      instanceTokens: { signingKey: instanceTokenKey, records: instanceTokenRecords },
    });
    this.feed = new DashboardFeed({ store: this.store, zones: this.zones, tokens: opts.tokens, logger: this.logger, registry });
    this.admin.onServer((server) => this.feed.attach(server));
    if (opts.https) {
      const httpsHost = opts.https.host;
      this.adminTls = new AdminTls(this.rootCa, this.logger, { hosts: [httpsHost, 'localhost', '127.0.0.1', hostname(), ...(opts.tlsHosts ?? [])], files: opts.https.files });
      this.adminTls.onRenew((context) => this.admin.setSecureContext(context));
    }
    this.election.on('elected', () => this.sweeper.start());
    this.election.on('lost', () => this.sweeper.stop());
  }

  // Starts serving at once; the store warms up in the background and the
  // API answers 503 until it has, so a controller can start while etcd is away.
  async start(): Promise<void> {
    this.store.start();
    this.zones.start();
    this.sessions.start();
    this.election.start();
    this.instanceTokenFeed.start();
    await this.ensureRootCa(this.rootCa);
    await this.federationTls.start();
    this.grpcPort = await this.federation.listen(this.opts.grpcAddress, this.federationTls.server.credentials);
    // HTTPS first: once the loopback listener answers, both do.
    if (this.opts.https && this.adminTls) {
      await this.adminTls.start();
      this.httpsPort = await this.admin.listenTls(this.opts.https.host, this.opts.https.port, this.adminTls.secureContext);
    }
    if (this.opts.httpHost !== undefined) this.httpPort = await this.admin.listen(this.opts.httpHost, this.opts.httpPort ?? 0);
    // Said once at start rather than only on the first join: a join signing
    // key this data key does not open fails every join until an operator acts.
    this.joinKey.get().catch((err: Error) => {
      if (err instanceof JoinSigningKeyError) this.logger.error({ err: err.message }, 'zones cannot join: the join signing key does not open');
    });
    const rootFingerprint = await this.rootCa.activeFingerprint().catch(() => undefined);
    this.logger.info({ grpc: this.grpcPort, http: this.httpPort || undefined, https: this.httpsPort || undefined, rootFingerprint, tokens: this.opts.tokens.size }, 'global controller serving');
  }

  // The root must exist before zones join; while etcd is away, keep trying.
  private async ensureRootCa(rootCa: RootCaStore): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await rootCa.ensure(this.opts.importRoot);
      } catch (err) {
        const message = (err as Error).message;
        // A data key that does not open the stored root will not start to.
        if (/does not open/.test(message)) throw new Error(`the data key does not open the mesh root CA stored in etcd: ${message}`);
        if (attempt === 1) this.logger.warn({ err: message }, 'cannot reach etcd to load the root CA; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
      }
    }
  }

  async stop(): Promise<void> {
    this.sweeper.stop();
    this.federationTls.stop();
    this.adminTls?.stop();
    await this.election.stop();
    // The feed's WebSockets first: the admin server's close waits for every socket.
    await this.feed.close();
    await this.instanceTokenFeed.stop();
    await Promise.allSettled([this.federation.close(), this.admin.close()]);
    // After the streams (their records are deleted as they close): the lease goes.
    await this.sessions.stop();
    await this.zones.stop();
    await this.store.stop();
    this.etcd.close();
  }
}
