// One zone's federation stream, from Hello to close.
//
// Hello is checked first (join token for the named region); then the zone gets
// a Snapshot, or the Deltas since the version it holds, followed by Deltas for
// every later change as etcd's watch delivers them. Reports, heartbeats and
// acks update the zone's status in the global view; the view of every region
// is pushed down as RegionsView, in full at start, then what changed: to a
// zone that merges them, only the services that changed in each region.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ZoneMessage__Output } from '../../proto/generated/meridian/federation/v1/ZoneMessage';
import type { GlobalMessage } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import type { Hello__Output } from '../../proto/generated/meridian/federation/v1/Hello';
import type { Logger } from '../../lib/observability/logger';
import type { ChangeBatch, ResourceStore } from '../store/resource-store';
import type { ZoneChange, ZoneStatusStore } from '../zones/zone-status-store';
import { JoinTokenError, verifyJoinToken } from '../auth/join-tokens';
import { hasClientCertificate, verifiedPeer } from '../../lib/grpc/mesh-credentials';
import type { JoinSigningKey } from '../auth/join-signing-key';
import { toWireChange, toWirePartialRegionStatus, toWireRegionStatus, toWireResource, type RevealDocument } from './wire';
import type { FederationMetrics } from './federation-metrics';
import type { RootCaStore } from '../identity/root-ca-store';
import type { ZoneCa } from '../../proto/generated/meridian/federation/v1/ZoneCa';
import type { InstanceTokenFeed } from './instance-token-feed';

export type SyncCall = grpc.ServerDuplexStream<ZoneMessage__Output, GlobalMessage>;

export interface ZoneSessionDeps {
  store: ResourceStore;
  zones: ZoneStatusStore;
  joinKey: JoinSigningKey;
  replica: string;
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  // Coalescing window for region view updates under churn.
  viewBatchMs: number;
  logger: Logger;
  metrics: FederationMetrics;
  rootCa?: RootCaStore;
  // Opens Certificate keys for the (mTLS) stream.
  revealDocument?: RevealDocument;
  // The instance token policy, sent after Welcome and on every revocation.
  instanceTokens?: InstanceTokenFeed;
}

export class ZoneSession {
  readonly id = randomUUID();
  private region: string | undefined;
  // The zone merges partial RegionStatus updates (Hello.partial_regions).
  private partialRegions = false;
  private sentVersion = 0;
  private closed = false;
  private watch: { close(): Promise<void> } | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private viewTimer: NodeJS.Timeout | undefined;
  // Region -> services changed since the last RegionsView, or 'all'.
  private readonly changedRegions = new Map<string, Set<string> | 'all'>();
  // Messages written that the stream has not sent yet: while there are any,
  // region views wait (and fold), so a slow zone gets the latest, not a backlog.
  private inFlight = 0;
  private readonly onZoneChange = (region: string, change: ZoneChange) => this.queueRegionView(region, change);
  private stopInstanceTokens: (() => void) | undefined;

  constructor(private readonly call: SyncCall, private readonly deps: ZoneSessionDeps, private readonly onClose: (s: ZoneSession) => void) {
    this.helloTimer = setTimeout(() => this.fail(grpc.status.DEADLINE_EXCEEDED, 'no Hello within the hello timeout'), deps.helloTimeoutMs);
    call.on('data', (msg: ZoneMessage__Output) => void this.receive(msg));
    call.on('end', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
  }

  get zoneRegion(): string | undefined {
    return this.region;
  }

  private async receive(msg: ZoneMessage__Output): Promise<void> {
    if (this.closed) return;
    if (!this.region && msg.message !== 'hello') return this.fail(grpc.status.FAILED_PRECONDITION, 'the first message must be Hello');
    switch (msg.message) {
      case 'hello':
        if (this.region) return this.fail(grpc.status.FAILED_PRECONDITION, 'Hello sent twice');
        return this.hello(msg.hello!);
      case 'ack':
        return this.ack(msg.ack!.version);
      case 'nack':
        return this.nack(msg.nack!.version, msg.nack!.reason);
      case 'report':
        return this.report(msg);
      case 'heartbeat':
        return this.heartbeat();
      case 'renewZoneCa': {
        const zoneCa = await this.signZoneCa(msg.renewZoneCa!.csr);
        if (zoneCa) this.write({ zoneCa });
        return;
      }
      default:
        return this.fail(grpc.status.INVALID_ARGUMENT, 'empty ZoneMessage');
    }
  }

  private async hello(hello: Hello__Output): Promise<void> {
    clearTimeout(this.helloTimer);
    const { logger, metrics } = this.deps;
    // A zone that has joined comes back with its zone leaf (mTLS): the
    // certificate, not the token, says who it is, so an expired token does
    // not lock out a zone restarting from its state. Without one, the join
    // token must be valid (first join, or a zone that lost its state).
    if (hasClientCertificate(this.call)) {
      const peer = verifiedPeer(this.call, { trustDomain: this.deps.rootCa!.trustDomain, roles: ['zone'], region: hello.region });
      if (!peer.ok) {
        metrics.refusedJoins.inc();
        logger.warn({ region: hello.region, reason: peer.reason }, 'zone refused: client certificate does not fit the Hello');
        return this.fail(grpc.status.PERMISSION_DENIED, `client certificate refused for region '${hello.region}': ${peer.reason}`);
      }
      return this.welcome(hello);
    }
    let key: Buffer;
    try {
      key = await this.deps.joinKey.get();
    } catch {
      return this.fail(grpc.status.UNAVAILABLE, 'the global controller cannot reach its store to check the join token; retry');
    }
    try {
      verifyJoinToken(key, hello.joinToken, hello.region);
    } catch (err) {
      if (!(err instanceof JoinTokenError)) throw err;
      metrics.refusedJoins.inc();
      logger.warn({ region: hello.region, reason: err.message }, 'zone refused');
      return this.fail(grpc.status.UNAUTHENTICATED, err.message);
    }
    return this.welcome(hello);
  }

  private async welcome(hello: Hello__Output): Promise<void> {
    const { logger } = this.deps;
    // The zone's CA, signed from its CSR, before the zone is welcomed. A zone
    // that holds a valid one sends no CSR and gets the trust bundle alone
    // (so it learns of a root rotation on every reconnect).
    let zoneCa: ZoneCa | undefined;
    if (hello.zoneCaCsr) {
      zoneCa = await this.signZoneCa(hello.zoneCaCsr, hello.region);
      if (!zoneCa) return;
    } else {
      zoneCa = await this.trustBundleOnly();
    }
    if (this.closed) return;
    this.region = hello.region;
    this.partialRegions = hello.partialRegions;
    this.deps.zones.attach(hello.region, { zoneId: hello.zoneId, replica: this.deps.replica, heartbeatIntervalMs: this.deps.heartbeatIntervalMs });
    logger.info({ region: hello.region, zoneId: hello.zoneId, lastApplied: hello.lastAppliedVersion }, 'zone connected');
    this.write({
      welcome: { replica: this.deps.replica, heartbeatIntervalMs: this.deps.heartbeatIntervalMs, region: hello.region, zoneCa, trustDomain: this.deps.rootCa?.trustDomain ?? '' },
    });
    this.startResources(hello.lastAppliedVersion);
    this.sendFullRegionView();
    this.deps.zones.on('change', this.onZoneChange);
    this.stopInstanceTokens = this.deps.instanceTokens?.subscribe((instanceTokens) => this.write({ instanceTokens }));
  }

  // A refused CSR (malformed, or outside the zone's region) ends the stream
  // with the reason; an unavailable CA asks the zone to retry.
  private async signZoneCa(csr: string, region = this.region!): Promise<ZoneCa | undefined> {
    const rootCa = this.deps.rootCa;
    if (!rootCa) {
      this.fail(grpc.status.FAILED_PRECONDITION, 'this global controller runs without a mesh CA (--data-key-file)');
      return undefined;
    }
    try {
      const issued = await rootCa.issueZoneCa(csr, region);
      this.deps.logger.info({ region, serial: issued.serial, notAfter: issued.notAfter.toISOString() }, 'zone CA issued');
      return { certificate: issued.certPem, trustBundle: await rootCa.trustBundle() };
    } catch (err) {
      const pki = (err as { code?: string }).code;
      const refused = pki === 'csr-refused' || pki === 'invalid-csr';
      this.deps.logger.warn({ region, reason: (err as Error).message }, refused ? 'zone CA request refused' : 'zone CA not issued');
      this.fail(refused ? grpc.status.PERMISSION_DENIED : grpc.status.UNAVAILABLE, `zone CA: ${(err as Error).message}`);
      return undefined;
    }
  }

  // Left out when the store cannot be read: the zone keeps the bundle it holds.
  private async trustBundleOnly(): Promise<ZoneCa | undefined> {
    try {
      return this.deps.rootCa ? { certificate: '', trustBundle: await this.deps.rootCa.trustBundle() } : undefined;
    } catch {
      return undefined;
    }
  }

  // Deltas since the zone's version when etcd still has them, else a snapshot.
  private startResources(lastApplied: number): void {
    const { store } = this.deps;
    if (lastApplied > 0 && lastApplied <= store.revision) {
      this.sentVersion = lastApplied;
      this.watch = store.watchFrom(lastApplied, (b) => this.sendDeltas(b), () => this.resync());
    } else {
      this.resync();
    }
  }

  private resync(): void {
    if (this.closed) return;
    void this.watch?.close();
    let snap: ReturnType<ResourceStore['snapshot']>;
    try {
      snap = this.deps.store.snapshot();
    } catch {
      return this.fail(grpc.status.UNAVAILABLE, 'the global controller has no view of its store yet; retry');
    }
    this.sentVersion = snap.revision;
    this.write({ snapshot: { version: snap.revision, resources: snap.resources.flatMap((r) => toWireResource(r, this.deps.revealDocument) ?? []) } });
    this.deps.metrics.snapshotsSent.inc();
    this.watch = this.deps.store.watchFrom(snap.revision, (b) => this.sendDeltas(b), () => this.resync());
  }

  private sendDeltas(batch: ChangeBatch): void {
    if (this.closed || batch.revision <= this.sentVersion) return;
    this.write({ deltas: { fromVersion: this.sentVersion, version: batch.revision, changes: batch.changes.map((c) => toWireChange(c, this.deps.revealDocument)) } });
    this.sentVersion = batch.revision;
    this.deps.metrics.deltasSent.inc();
  }

  // Every message from the zone is a sign of life (the store counts acks,
  // nacks and reports as heartbeats too).
  private ack(version: number): void {
    if (this.region) this.deps.zones.ack(this.region, version);
  }

  private nack(version: number, reason: string): void {
    if (!this.region) return;
    this.deps.metrics.nacks.inc();
    this.deps.logger.warn({ region: this.region, version, reason }, 'zone refused a version');
    this.deps.zones.nack(this.region, version, reason);
  }

  private report(msg: ZoneMessage__Output): void {
    if (!this.region) return;
    const report = msg.report!;
    if (report.region && report.region !== this.region) {
      return this.fail(grpc.status.PERMISSION_DENIED, `report for region '${report.region}' on a stream joined as '${this.region}'`);
    }
    this.deps.zones.report(this.region, report);
    this.deps.metrics.reports.inc();
  }

  private heartbeat(): void {
    if (this.region) this.deps.zones.heartbeat(this.region);
  }

  private sendFullRegionView(): void {
    const now = Date.now();
    this.write({ regions: { full: true, regions: this.deps.zones.all().map((s) => toWireRegionStatus(s, now)), removed: [] } });
  }

  private queueRegionView(region: string, change: ZoneChange): void {
    // Acks and nacks are not part of the view the zones get.
    if (!change.view) return;
    const queued = this.changedRegions.get(region);
    if (change.services === 'all' || !this.partialRegions) this.changedRegions.set(region, 'all');
    else if (queued !== 'all') {
      const set = queued ?? new Set<string>();
      for (const s of change.services) set.add(s);
      this.changedRegions.set(region, set);
    }
    this.viewTimer ??= setTimeout(() => this.flushRegionView(), this.deps.viewBatchMs);
  }

  private flushRegionView(): void {
    this.viewTimer = undefined;
    if (this.closed || this.inFlight > 0) return;
    const now = Date.now();
    const { zones } = this.deps;
    const regions = [];
    const removed = [];
    for (const [name, services] of this.changedRegions) {
      if (services === 'all') {
        const s = zones.get(name);
        if (s) regions.push(toWireRegionStatus(s, now));
        else removed.push(name);
        continue;
      }
      const s = zones.get(name, { services: false });
      if (s) regions.push(toWirePartialRegionStatus(s, services, (service) => zones.service(name, service), now));
      else removed.push(name);
    }
    this.changedRegions.clear();
    this.write({ regions: { full: false, regions, removed } });
  }

  private write(msg: GlobalMessage): void {
    if (this.closed) return;
    this.inFlight++;
    this.call.write(msg, () => {
      if (--this.inFlight === 0 && this.changedRegions.size && !this.viewTimer) this.flushRegionView();
    });
  }

  private fail(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.call.emit('error', { code, details, name: 'FederationError', message: details });
    this.close();
  }

  // Server shutdown: end the stream cleanly so the zone reconnects elsewhere.
  end(): void {
    if (!this.closed) this.call.end();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearTimeout(this.viewTimer);
    this.deps.zones.off('change', this.onZoneChange);
    this.stopInstanceTokens?.();
    if (this.region) this.deps.zones.detach(this.region);
    void this.watch?.close();
    if (this.region) this.deps.logger.info({ region: this.region }, 'zone stream closed');
    this.onClose(this);
  }
}
