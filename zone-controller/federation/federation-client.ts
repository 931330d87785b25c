// The zone's side of the federation stream.
//
// Connects with the join token and the version it holds; applies the
// snapshot or deltas it gets (each validated by lib/resources first, acked
// when applied, nacked with the reason when refused); keeps the region view;
// sends heartbeats on the interval the global controller names and a report
// whenever the zone's facts change. Reconnects with backoff and jitter; while
// away, the zone serves from what it holds. Resource messages are applied one
// at a time in the order they came; a snapshot is validated in slices with
// turns of the event loop between them (./document-validator.ts), and the
// region view that follows it is applied meanwhile (the two are independent
// parts of the state).
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { federationProto } from '../../lib/grpc/protos';
import type { ResourceDocument } from '../../lib/resources';
import { validateInSlices } from './document-validator';
import { ReportCoalescer } from './report-coalescer';
import type { Logger } from '../../lib/observability/logger';
import type { GlobalMessage__Output } from '../../proto/generated/meridian/federation/v1/GlobalMessage';
import type { ZoneMessage } from '../../proto/generated/meridian/federation/v1/ZoneMessage';
import type { ZoneReport } from '../../proto/generated/meridian/federation/v1/ZoneReport';
import type { InstanceTokenPolicy__Output } from '../../proto/generated/meridian/federation/v1/InstanceTokenPolicy';
import type { Resource__Output } from '../../proto/generated/meridian/resource/v1/Resource';
import type { GlobalState, HeldResource } from '../state/global-state';
import { STREAM_KEEPALIVE } from '../../lib/grpc/stream-keepalive';
import { meshChannelOptions } from '../../lib/grpc/mesh-credentials';
import { FEDERATION_MAX_MESSAGE_BYTES } from '../../lib/grpc/federation-limits';

export interface FederationClientOptions {
  globalAddress: string;
  region: string;
  joinToken: string;
  zoneId: string;
  state: GlobalState;
  logger: Logger;
  // Builds the report that is due: `full` on a new stream (every service),
  // else what changed since the previous one.
  report: (full: boolean) => ZoneReport;
  // TLS credentials for each new connection (they change when the zone's
  // leaf or the trust bundle does); a rejection is logged and retried.
  credentials?: () => Promise<grpc.ChannelCredentials>;
  reportDebounceMs?: number;
  maxBackoffMs?: number;
  // The zone CA's CSR for Hello (undefined: none needed), and where the
  // signed certificate goes. A zone without a zone CA starts the client only
  // once the key is made: its first Hello carries the CSR with the join token,
  // so the token is spent exactly when it buys the zone CA.
  zoneCaCsr?: () => string | undefined;
  // Over mTLS: the zone CA certificate that signed the leaf the connection presents.
  zoneCaCertificate?: () => string | undefined;
  onZoneCa?: (certificate: string, trustBundle: string[]) => void;
  // The instance token policy (signing keys, revocations), after Welcome and on every change.
  onInstanceTokens?: (policy: InstanceTokenPolicy__Output) => void;
}

// A reconnect asked for while a stream takes its first snapshot and regions
// view waits for them, and this long after, so the region's proxies get
// them before the view is sent again (the global controller sends the full
// regions view on every new stream).
const RECONNECT_AFTER_SYNC_MS = 5000;

// HTTP/2 receive window of the stream and the connection. With the default
// 64 KiB the global controller sends the regions view that follows a snapshot
// (a few MB) one window per turn of this event loop, which is busy validating
// the snapshot meanwhile: about a second late. This much lets both arrive at once.
const FEDERATION_FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

type FederationClientStub = InstanceType<ReturnType<typeof federationProto>['meridian']['federation']['v1']['Federation']>;

export declare interface FederationClient {
  on(event: 'connected' | 'disconnected', listener: () => void): this;
  on(event: 'refused', listener: (reason: string) => void): this;
}

export class FederationClient extends EventEmitter {
  private client: FederationClientStub | undefined;
  private clientCredentials: grpc.ChannelCredentials | undefined;
  private call: grpc.ClientDuplexStream<ZoneMessage, GlobalMessage__Output> | undefined;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  // The stream was ended on purpose to come back with new credentials.
  private renewing = false;
  // This stream has applied its full regions view and every resource
  // message before it; a reconnect asked for before then waits for that.
  private synced = false;
  private syncedAt = 0;
  private fullRegionsApplied = false;
  private reconnectWhenSynced = false;
  // Resource messages, applied in order; how many are not applied yet.
  private applying: Promise<void> = Promise.resolve();
  private resourcesPending = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private syncedReconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly reports: ReportCoalescer;
  lastError: string | undefined;

  constructor(private readonly opts: FederationClientOptions) {
    super();
    this.reports = new ReportCoalescer(() => this.sendReport(false), opts.reportDebounceMs ?? 20);
  }

  // A new channel only when the credentials changed; otherwise the one held.
  private stub(credentials: grpc.ChannelCredentials): FederationClientStub {
    if (this.client && credentials === this.clientCredentials) return this.client;
    this.client?.close();
    const Federation = federationProto().meridian.federation.v1.Federation;
    this.client = new Federation(this.opts.globalAddress, credentials, {
      ...STREAM_KEEPALIVE,
      ...meshChannelOptions(this.opts.globalAddress),
      'grpc.max_receive_message_length': FEDERATION_MAX_MESSAGE_BYTES,
      'grpc-node.flow_control_window': FEDERATION_FLOW_CONTROL_WINDOW,
    });
    this.clientCredentials = credentials;
    return this.client;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.syncedReconnectTimer);
    this.reports.cancel();
    clearInterval(this.heartbeatTimer);
    this.call?.cancel();
    this.client?.close();
  }

  // Ends the stream so the next one is opened with fresh credentials; a
  // stream still taking its first snapshot and regions view keeps them, and
  // ends RECONNECT_AFTER_SYNC_MS after it has them.
  reconnect(): void {
    if (!this.call) return;
    const wait = this.synced ? this.syncedAt + RECONNECT_AFTER_SYNC_MS - Date.now() : Infinity;
    if (wait > 0) {
      this.reconnectWhenSynced = true;
      if (this.synced) this.armSyncedReconnect(wait);
      return;
    }
    this.reconnectWhenSynced = false;
    clearTimeout(this.syncedReconnectTimer);
    this.opts.logger.info('reconnecting to the global controller with new TLS credentials');
    this.renewing = true;
    this.call.cancel();
  }

  renewZoneCa(csr: string): void {
    this.send({ renewZoneCa: { csr } });
  }

  // The zone's facts changed: report soon, coalescing a burst into one report.
  reportChanged(): void {
    if (this.connected) this.reports.changed();
  }

  private connect(): void {
    if (this.stopped) return;
    const credentials = this.opts.credentials?.() ?? Promise.resolve(grpc.credentials.createInsecure());
    credentials.then(
      (c) => this.open(c),
      (err: Error) => {
        if (this.stopped) return;
        const lastError = `TLS: ${err.message}`;
        // Once per distinct reason, not on every retry while the global controller is away.
        if (lastError !== this.lastError) this.opts.logger.warn({ reason: err.message }, 'cannot set up TLS to the global controller; retrying');
        this.lastError = lastError;
        this.scheduleReconnect(false);
      },
    );
  }

  private open(credentials: grpc.ChannelCredentials): void {
    if (this.stopped) return;
    const { logger, state } = this.opts;
    const call = this.stub(credentials).Sync();
    this.call = call;
    this.synced = this.fullRegionsApplied = false;
    call.on('data', (msg: GlobalMessage__Output) => this.receive(call, msg));
    call.on('error', () => undefined); // the status event carries the reason
    call.on('status', (status: grpc.StatusObject) => {
      if (call !== this.call) return;
      this.disconnected(status);
    });
    call.write({
      hello: {
        region: this.opts.region,
        joinToken: this.opts.joinToken,
        lastAppliedVersion: state.announcedVersion,
        zoneId: this.opts.zoneId,
        zoneCaCsr: this.opts.zoneCaCsr?.() ?? '',
        zoneCaCertificate: this.opts.zoneCaCertificate?.() ?? '',
        partialRegions: true,
      },
    });
    logger.debug({ global: this.opts.globalAddress, version: state.version }, 'connecting to the global controller');
  }

  private disconnected(status: grpc.StatusObject): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.call = undefined;
    // The next stream is opened with fresh credentials anyway.
    this.reconnectWhenSynced = false;
    clearTimeout(this.syncedReconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.reports.cancel();
    if (this.stopped) return;
    if (this.renewing) {
      this.renewing = false;
      if (wasConnected) this.emit('disconnected');
      this.reconnectTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    this.lastError = `${grpc.status[status.code]}: ${status.details}`;
    if (status.code === grpc.status.UNAUTHENTICATED) {
      // A bad token will not become good by retrying fast.
      this.opts.logger.error({ reason: status.details }, 'the global controller refused this zone');
      this.emit('refused', status.details);
    } else if (wasConnected) {
      this.opts.logger.warn({ status: this.lastError }, 'federation stream lost; serving from the held state');
    }
    if (wasConnected) this.emit('disconnected');
    this.scheduleReconnect(status.code === grpc.status.UNAUTHENTICATED);
  }

  // Exponential backoff with full jitter, so zones do not return in step.
  private scheduleReconnect(slow: boolean): void {
    const max = this.opts.maxBackoffMs ?? 10_000;
    const ceiling = Math.min(max, 200 * 2 ** Math.min(this.attempt++, 10));
    const delay = slow ? max : 100 + Math.random() * ceiling;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private receive(call: NonNullable<FederationClient['call']>, msg: GlobalMessage__Output): void {
    if (call !== this.call) return;
    switch (msg.message) {
      case 'welcome': {
        this.connected = true;
        this.attempt = 0;
        this.lastError = undefined;
        const every = Math.max(100, msg.welcome!.heartbeatIntervalMs || 1000);
        clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = setInterval(() => this.send({ heartbeat: { sentAtMs: Date.now() } }), every);
        this.heartbeatTimer.unref();
        this.opts.logger.info({ replica: msg.welcome!.replica, heartbeatMs: every, sinceStartMs: sinceStart() }, 'joined the global controller');
        if (msg.welcome!.zoneCa) this.opts.onZoneCa?.(msg.welcome!.zoneCa.certificate, msg.welcome!.zoneCa.trustBundle);
        this.sendReport(true);
        this.emit('connected');
        return;
      }
      case 'snapshot':
        return this.inOrder(call, () => this.applySnapshot(call, msg.snapshot!.version, msg.snapshot!.resources));
      case 'deltas':
        return this.inOrder(call, () => this.applyDeltas(call, msg.deltas!));
      case 'zoneCa':
        this.opts.onZoneCa?.(msg.zoneCa!.certificate, msg.zoneCa!.trustBundle);
        return;
      case 'regions':
        return this.applyRegions(msg.regions!);
      case 'instanceTokens':
        this.opts.onInstanceTokens?.(msg.instanceTokens!);
        return;
    }
  }

  // Runs after every resource message before it; skipped once its stream is replaced.
  private inOrder(call: NonNullable<FederationClient['call']>, apply: () => void | Promise<void>): void {
    this.resourcesPending++;
    this.applying = this.applying.then(async () => {
      try {
        if (call === this.call) await apply();
      } catch (err) {
        this.opts.logger.error({ err: (err as Error).message }, 'cannot apply a message from the global controller');
      } finally {
        this.resourcesPending--;
        if (call === this.call) this.checkSynced();
      }
    });
  }

  private applyRegions(r: NonNullable<GlobalMessage__Output['regions']>): void {
    this.opts.state.applyRegions(r.full, r.regions, r.removed);
    if (!r.full || this.fullRegionsApplied) return;
    this.fullRegionsApplied = true;
    this.opts.logger.info({ regions: r.regions.length, sinceStartMs: sinceStart() }, 'applied the full regions view');
    this.checkSynced();
  }

  private checkSynced(): void {
    if (this.synced || !this.fullRegionsApplied || this.resourcesPending > 0) return;
    this.synced = true;
    this.syncedAt = Date.now();
    if (this.reconnectWhenSynced) this.armSyncedReconnect(RECONNECT_AFTER_SYNC_MS);
  }

  private armSyncedReconnect(ms: number): void {
    clearTimeout(this.syncedReconnectTimer);
    this.syncedReconnectTimer = setTimeout(() => this.reconnect(), ms);
    this.syncedReconnectTimer.unref();
  }

  private async applySnapshot(call: NonNullable<FederationClient['call']>, version: number, resources: Resource__Output[]): Promise<void> {
    const t0 = performance.now();
    const decoded = await this.decode(resources);
    if (call !== this.call) return;
    if (typeof decoded === 'string') return this.nack(version, decoded);
    this.opts.state.replaceAll(version, decoded);
    this.send({ ack: { version } });
    this.opts.logger.info({ version, resources: decoded.length, validationMs: Math.round(performance.now() - t0), sinceStartMs: sinceStart() }, 'applied a snapshot');
  }

  private async applyDeltas(call: NonNullable<FederationClient['call']>, d: NonNullable<GlobalMessage__Output['deltas']>): Promise<void> {
    const { state, logger } = this.opts;
    if (d.fromVersion !== state.version) {
      // A gap: start over from what we hold rather than apply out of order.
      logger.warn({ held: state.version, from: d.fromVersion }, 'deltas do not follow the held version; resyncing');
      this.call?.cancel();
      return;
    }
    const puts = d.changes.filter((c) => c.op === 'PUT').map((c) => c.resource!);
    const deletes = d.changes.filter((c) => c.op === 'DELETE').map((c) => ({ kind: c.resource!.kind, name: c.resource!.name }));
    const decoded = await this.decode(puts);
    if (call !== this.call) return;
    if (typeof decoded === 'string') {
      state.skipTo(d.version);
      return this.nack(d.version, decoded);
    }
    state.applyChanges(d.version, decoded, deletes);
    this.send({ ack: { version: d.version } });
  }

  // Validates every document; any problem refuses the whole message.
  private async decode(resources: Resource__Output[]): Promise<HeldResource[] | string> {
    const result = await validateInSlices(resources.map((r) => r.document.toString('utf8')));
    if (!result.ok) return result.problem;
    return result.documents.map((doc: ResourceDocument, i) => ({
      kind: doc.kind,
      name: doc.metadata.name,
      document: doc,
      modRevision: resources[i]!.modRevision,
      text: resources[i]!.document,
    }));
  }

  private nack(version: number, reason: string): void {
    this.opts.logger.error({ version, reason }, 'refused a version from the global controller');
    this.send({ nack: { version, reason } });
  }

  private sendReport(full: boolean): void {
    if (this.connected) this.send({ report: this.opts.report(full) });
  }

  private send(msg: ZoneMessage): void {
    this.call?.write(msg);
  }
}

// Milestones of a start in the log: ms since the process began.
function sinceStart(): number {
  return Math.round(performance.now());
}
