// One zone's federation stream, from Hello to close.
//
// Hello is checked first (an unused join token for the named region with the
// zone CA's CSR, or the zone leaf over mTLS), and the region's session is taken
// (one live session per region, ../zones/zone-session-registry.ts); then the zone gets
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
import { JoinTokenError, verifyJoinToken, type JoinTokenClaims } from '../../lib/auth/join-tokens';
import type { JoinTokenRecords } from '../auth/join-token-records';
import { ZoneSessionRefused, type ZoneSessionRegistry } from '../zones/zone-session-registry';
import type { ZoneSessionRecord } from '../zones/zone-session-claim';
import { csrIdentity, leafIdentity } from './zone-identity';
import { hasClientCertificate, verifiedPeer } from '../../lib/grpc/mesh-credentials';
import { JoinSigningKeyError, type JoinSigningKey } from '../auth/join-signing-key';
import { deltasMessage, snapshotMessage, toWirePartialRegionStatus, toWireRegionStatus, type RevealDocument } from './wire';
import type { FederationMetrics } from './federation-metrics';
import type { RootCaStore } from '../identity/root-ca-store';
import type { ZoneCa } from '../../proto/generated/meridian/federation/v1/ZoneCa';
import type { InstanceTokenFeed } from './instance-token-feed';

const ZONE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type SyncCall = grpc.ServerDuplexStream<ZoneMessage__Output, GlobalMessage>;

export interface ZoneSessionDeps {
  store: ResourceStore;
  zones: ZoneStatusStore;
  joinKey: JoinSigningKey;
  // Join tokens are spent here (single use).
  joinTokens: JoinTokenRecords;
  // One live session per region, across the replicas.
  sessions: ZoneSessionRegistry;
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
  // The region's session record this stream took.
  private claimed: ZoneSessionRecord | undefined;
  private helloSeen = false;
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
    // Nothing but one Hello until the zone is welcomed (the Hello's checks take a moment).
    if (!this.region && (msg.message !== 'hello' || this.helloSeen)) {
      return this.fail(grpc.status.FAILED_PRECONDITION, msg.message === 'hello' ? 'Hello sent twice' : 'the first message must be Hello');
    }
    switch (msg.message) {
      case 'hello':
        if (this.helloSeen) return this.fail(grpc.status.FAILED_PRECONDITION, 'Hello sent twice');
        this.helloSeen = true;
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
        if (!this.sameKey(msg.renewZoneCa!.csr)) return;
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
    // It is recorded (token use, session) and shown to operators.
    if (!ZONE_ID.test(hello.zoneId)) {
      return this.fail(grpc.status.INVALID_ARGUMENT, `zone_id: '${hello.zoneId.slice(0, 64)}' is not a zone controller id (1 to 128 letters, digits, '.', '_' or '-')`);
    }
    // A zone that has joined comes back with its zone leaf (mTLS): the
    // certificate, not the token, says who it is, so an expired token does
    // not lock out a zone restarting from its state. Without one, the join
    // token must be valid and unused (first join, or a zone that lost its
    // state), and it buys the zone CA for the CSR that comes with it.
    const joined = hasClientCertificate(this.call) ? await this.mutualIdentity(hello) : await this.tokenIdentity(hello);
    if (!joined || this.closed) return;
    // Over mTLS a CSR renews the zone CA the leaf came from, for its key only.
    if (!joined.claims && hello.zoneCaCsr && !this.sameKey(hello.zoneCaCsr, joined.identity)) return;
    const record: ZoneSessionRecord = {
      region: hello.region,
      sessionId: this.id,
      zoneId: hello.zoneId,
      replica: this.deps.replica,
      identity: joined.identity,
      auth: joined.claims ? 'token' : 'mtls',
      sinceMs: Date.now(),
    };
    if (!(await this.claimRegion(record))) return;
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
    // The token is spent only now, for the zone CA in hand: of two zones
    // racing with one token, the loser never gets the CA it was signed. A
    // stream that went meanwhile leaves the token unspent.
    if (this.closed) return;
    if (joined.claims) {
      try {
        await this.deps.joinTokens.spend(joined.claims, hello.zoneId, joined.identity);
      } catch (err) {
        return this.refuseToken(hello, err);
      }
      this.deps.logger.info({ region: hello.region, zoneId: hello.zoneId, tokenId: joined.claims.id }, 'join token used');
    }
    if (this.closed) return;
    this.welcome(hello, zoneCa);
  }

  // The identity of a zone on its leaf: the key of the zone CA the Hello
  // names, when the leaf verifies under it; refused when it was revoked.
  private async mutualIdentity(hello: Hello__Output): Promise<{ identity: string; claims?: undefined } | undefined> {
    const { logger, metrics } = this.deps;
    const peer = verifiedPeer(this.call, { trustDomain: this.deps.rootCa!.trustDomain, roles: ['zone'], region: hello.region });
    const refuse = (reason: string) => {
      metrics.refusedJoins.inc();
      logger.warn({ region: hello.region, reason }, 'zone refused: client certificate does not fit the Hello');
      this.fail(grpc.status.PERMISSION_DENIED, `client certificate refused for region '${hello.region}': ${reason}`);
      return undefined;
    };
    if (!peer.ok) return refuse(peer.reason);
    let roots: string[];
    try {
      roots = await this.deps.rootCa!.trustBundle();
    } catch {
      this.fail(grpc.status.UNAVAILABLE, 'the global controller cannot reach its store to check the zone CA; retry');
      return undefined;
    }
    const leaf = this.call.getAuthContext?.()?.sslPeerCertificate?.raw;
    const found = leaf ? leafIdentity(leaf, hello.zoneCaCertificate, roots, hello.region) : { ok: false as const, reason: 'no verified client certificate' };
    if (!found.ok) return refuse(found.reason);
    return { identity: found.identity };
  }

  // The identity of a zone joining on its token: the key of its CSR. The
  // token must verify and be unused (or spent for this very key, by a join
  // whose stream broke before Welcome); it is spent later, with the zone CA.
  private async tokenIdentity(hello: Hello__Output): Promise<{ identity: string; claims: JoinTokenClaims } | undefined> {
    let key: Buffer;
    try {
      key = await this.deps.joinKey.get();
    } catch (err) {
      // A key that does not open is the operator's to fix, not a reason to retry.
      if (err instanceof JoinSigningKeyError) this.fail(grpc.status.FAILED_PRECONDITION, `the global controller cannot check join tokens: ${err.message}`);
      else this.fail(grpc.status.UNAVAILABLE, 'the global controller cannot reach its store to check the join token; retry');
      return undefined;
    }
    let claims: JoinTokenClaims;
    try {
      claims = verifyJoinToken(key, hello.joinToken, hello.region);
      // A zone spends its token on its zone CA: without a CSR the token would
      // buy a stream it could never come back to over mTLS.
      if (!hello.zoneCaCsr) throw new JoinTokenError(`a zone joining on a join token sends the CSR of its zone CA in Hello (zone_ca_csr); this one sent none`);
    } catch (err) {
      return this.refuseToken(hello, err);
    }
    let identity: string;
    try {
      identity = csrIdentity(hello.zoneCaCsr);
    } catch (err) {
      this.deps.metrics.refusedJoins.inc();
      this.fail(grpc.status.PERMISSION_DENIED, `zone CA: ${(err as Error).message}`);
      return undefined;
    }
    try {
      await this.deps.joinTokens.check(claims, identity);
    } catch (err) {
      return this.refuseToken(hello, err);
    }
    return { identity, claims };
  }

  private refuseToken(hello: Hello__Output, err: unknown): undefined {
    if (!(err instanceof JoinTokenError)) {
      this.fail(grpc.status.UNAVAILABLE, `the global controller cannot reach its store to check the join token; retry (${(err as Error).message})`);
      return undefined;
    }
    this.deps.metrics.refusedJoins.inc();
    this.deps.logger.warn({ region: hello.region, zoneId: hello.zoneId, reason: err.message }, 'zone refused');
    this.fail(grpc.status.UNAUTHENTICATED, err.message);
    return undefined;
  }

  // One live session per region: taken in etcd before the zone gets anything.
  private async claimRegion(record: ZoneSessionRecord): Promise<boolean> {
    const { logger, metrics } = this.deps;
    try {
      await this.deps.sessions.claim(record, (why, message) => this.fail(why === 'revoked' ? grpc.status.PERMISSION_DENIED : grpc.status.ABORTED, message));
    } catch (err) {
      if (err instanceof ZoneSessionRefused) {
        metrics.refusedJoins.inc();
        logger.warn({ region: record.region, zoneId: record.zoneId, identity: record.identity, reason: err.message }, 'zone session refused');
        this.fail(err.why === 'revoked' ? grpc.status.PERMISSION_DENIED : grpc.status.ALREADY_EXISTS, err.message);
      } else {
        this.fail(grpc.status.UNAVAILABLE, `the global controller cannot record the zone session in its store; retry (${(err as Error).message})`);
      }
      return false;
    }
    this.claimed = record;
    // The stream may have gone while the claim was in flight.
    if (this.closed) {
      this.deps.sessions.release(record.region, record.sessionId);
      return false;
    }
    return true;
  }

  private welcome(hello: Hello__Output, zoneCa: ZoneCa | undefined): void {
    const { logger } = this.deps;
    this.region = hello.region;
    this.partialRegions = hello.partialRegions;
    this.deps.zones.attach(hello.region, { zoneId: hello.zoneId, replica: this.deps.replica, heartbeatIntervalMs: this.deps.heartbeatIntervalMs });
    logger.info({ region: hello.region, zoneId: hello.zoneId, lastApplied: hello.lastAppliedVersion, auth: this.claimed?.auth }, 'zone connected');
    this.write({
      welcome: { replica: this.deps.replica, heartbeatIntervalMs: this.deps.heartbeatIntervalMs, region: hello.region, zoneCa, trustDomain: this.deps.rootCa?.trustDomain ?? '' },
    });
    this.startResources(hello.lastAppliedVersion);
    this.sendFullRegionView();
    this.deps.zones.on('change', this.onZoneChange);
    this.stopInstanceTokens = this.deps.instanceTokens?.subscribe((instanceTokens) => this.write({ instanceTokens }));
  }

  // A zone keeps its zone CA key: a renewal for another key would hand the
  // stream a second identity that no token paid for and no revocation names.
  private sameKey(csr: string, identity = this.claimed?.identity): boolean {
    let asked: string;
    try {
      asked = csrIdentity(csr);
    } catch (err) {
      this.fail(grpc.status.PERMISSION_DENIED, `zone CA: ${(err as Error).message}`);
      return false;
    }
    if (asked === identity) return true;
    this.fail(grpc.status.PERMISSION_DENIED, `zone CA: the CSR is for key ${asked}, not for this zone's key ${identity}; a new key joins with a new join token`);
    return false;
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
    this.write(snapshotMessage(snap, this.deps.revealDocument));
    this.deps.metrics.snapshotsSent.inc();
    this.watch = this.deps.store.watchFrom(snap.revision, (b) => this.sendDeltas(b), () => this.resync());
  }

  private sendDeltas(batch: ChangeBatch): void {
    if (this.closed || batch.revision <= this.sentVersion) return;
    this.write(deltasMessage(this.sentVersion, batch, this.deps.revealDocument));
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
    if (this.claimed) this.deps.sessions.release(this.claimed.region, this.claimed.sessionId);
    void this.watch?.close();
    if (this.region) this.deps.logger.info({ region: this.region }, 'zone stream closed');
    this.onClose(this);
  }
}
