// Controlled mode: the view comes from the zone controller's discovery stream
// (meridian.discovery.v1.Discovery/Watch). The stream sends the full view,
// then deltas; each message becomes a new snapshot at once, or, for a view
// sent in parts, the last part does, with all of them (./view-parts-assembler.ts). When the stream
// breaks the source reconnects with a capped, jittered backoff and KEEPS the
// last view: requests go on being served from it.
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import type { Logger } from '../../lib/observability/logger';
import type { DiscoveryClient } from '../../proto/generated/meridian/discovery/v1/Discovery';
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import { applyViewMessage } from './apply-view-message';
import type { EdgeView, ViewSource } from './edge-view';
import { ViewState } from './view-state';
import { ViewPartsAssembler } from './view-parts-assembler';
import { STREAM_KEEPALIVE } from '../../lib/grpc/stream-keepalive';
import { meshChannelOptions } from '../../lib/grpc/mesh-credentials';

export interface DiscoverySourceOptions {
  // host:port of the zone controller's discovery server.
  address: string;
  region: string;
  proxy: string;
  mode: 'edge' | 'ingress';
  // TLS to the zone (./zone-tls.ts); plaintext without.
  credentials?: grpc.ChannelCredentials;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class DiscoverySource implements ViewSource {
  readonly kind = 'discovery' as const;
  private readonly state: ViewState;
  private client: DiscoveryClient | undefined;
  private call: grpc.ClientReadableStream<View__Output> | undefined;
  private onView: ((view: EdgeView) => void) | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private connected = false;
  private haveFullView = false;
  private messages = 0;
  private lastMessageAt = 0;
  private lastError: string | undefined;
  private firstView: (() => void) | undefined;
  private readonly parts = new ViewPartsAssembler();

  constructor(
    private readonly options: DiscoverySourceOptions,
    private readonly logger: Logger,
  ) {
    this.state = new ViewState(options.region, 'discovery');
  }

  // Resolves once connecting has begun; the first view may come later (the
  // edge serves 503s for unknown services until then). waitForFirstView()
  // is there for whoever wants to wait.
  async start(onView: (view: EdgeView) => void): Promise<void> {
    this.onView = onView;
    const Discovery = discoveryProto().meridian.discovery.v1.Discovery;
    this.client = new Discovery(this.options.address, this.options.credentials ?? grpc.credentials.createInsecure(), {
      ...STREAM_KEEPALIVE,
      ...meshChannelOptions(this.options.address),
      'grpc.initial_reconnect_backoff_ms': this.options.minBackoffMs ?? 100,
      'grpc.max_reconnect_backoff_ms': this.options.maxBackoffMs ?? 5_000,
    });
    this.open();
  }

  waitForFirstView(timeoutMs: number): Promise<boolean> {
    if (this.haveFullView) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.firstView = undefined;
        resolve(false);
      }, timeoutMs);
      this.firstView = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private open(): void {
    if (this.stopped || this.client === undefined) return;
    // partial_regions: a changed remote region comes with only its changed
    // services (merged by applyViewMessage), at once rather than whole and
    // folded to one message a second.
    this.parts.reset();
    const call = this.client.Watch({ region: this.options.region, proxy: this.options.proxy, mode: this.options.mode, partialRegions: true });
    this.call = call;
    call.on('data', (msg: View__Output) => this.onMessage(call, msg));
    call.on('error', (err: grpc.ServiceError) => this.onBroken(call, `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
    call.on('end', () => this.onBroken(call, 'stream ended'));
  }

  private onMessage(call: grpc.ClientReadableStream<View__Output>, part: View__Output): void {
    if (call !== this.call) return;
    this.messages++;
    this.lastMessageAt = Date.now();
    let msg: View__Output | undefined;
    try {
      msg = this.parts.add(part);
    } catch (err) {
      call.cancel();
      return this.onBroken(call, `discovery: ${(err as Error).message}`);
    }
    if (msg === undefined) return;
    if (!this.haveFullView && !msg.full) {
      this.logger.warn({ version: msg.version }, 'discovery: delta before the first full view; applying it anyway');
    }
    if (msg.full) {
      if (msg.region && msg.region !== this.options.region) {
        this.logger.error({ expected: this.options.region, got: msg.region }, 'discovery: the zone controller serves another region');
      }
      if (!this.connected) this.logger.info({ zone: this.options.address, version: msg.version }, 'discovery: connected, full view received');
      this.haveFullView = true;
    }
    this.connected = true;
    this.failures = 0;
    const { rejected } = applyViewMessage(this.state, msg);
    if (rejected.length > 0) this.logger.error({ rejected }, 'discovery: invalid resources skipped');
    this.onView?.(this.state.snapshot());
    if (msg.full && this.firstView) {
      const done = this.firstView;
      this.firstView = undefined;
      done();
    }
  }

  private onBroken(call: grpc.ClientReadableStream<View__Output>, reason: string): void {
    if (call !== this.call) return;
    this.call = undefined;
    call.removeAllListeners('data');
    call.on('error', () => undefined);
    if (this.stopped) return;
    if (this.connected || this.failures === 0) {
      this.logger.warn({ zone: this.options.address, reason }, 'discovery: stream broken; keeping the last view and reconnecting');
    }
    this.connected = false;
    this.lastError = reason;
    const min = this.options.minBackoffMs ?? 100;
    const max = this.options.maxBackoffMs ?? 5_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 16));
    this.failures++;
    // Full jitter in the upper half: reconnecting proxies do not stampede.
    this.retryTimer = setTimeout(() => this.open(), delay / 2 + Math.random() * (delay / 2));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.on('error', () => undefined);
      call.cancel();
    }
    this.client?.close();
  }

  status(): Record<string, unknown> {
    return {
      kind: 'discovery',
      zone: this.options.address,
      connected: this.connected,
      haveFullView: this.haveFullView,
      messages: this.messages,
      lastMessageAt: this.lastMessageAt ? new Date(this.lastMessageAt).toISOString() : undefined,
      lastError: this.lastError,
    };
  }
}
