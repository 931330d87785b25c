// Announces the anycast address through the local BIRD while the edge is
// healthy (announce-policy.ts) and withdraws it otherwise. Re-evaluated on
// every view and every second; BIRD is told only when what it should
// announce, or its config (neighbors from the Region resource), changes.
// On SIGTERM the gateway calls withdrawForDrain() first: the route goes,
// routers move new connections elsewhere during --withdraw-wait while this
// edge still answers, then the gateway stops accepting and drains.
import { EventEmitter } from 'node:events';
import { AnycastAnnouncer, BirdControl } from '../../lib/net/bird-control';
import type { Logger } from '../../lib/observability/logger';
import type { RegionResource } from '../../lib/resources';
import type { EdgeView, ViewSource } from '../config/edge-view';
import type { GatewayObserver } from '../observability/gateway-observer';
import type { AnycastOptions } from './anycast-options';
import { evaluateAnnounce, type AnnounceVerdict, type Freshness } from './announce-policy';
import { birdSettings, type BirdSettings } from './bird-settings';

const TICK_MS = 1000;

export declare interface AnycastController {
  // What BIRD announces changed (for the report to the zone).
  on(event: 'change', listener: (announcing: boolean) => void): this;
}

// What it reads of the running gateway (gateway.ts is one).
export interface AnnouncedGateway {
  httpAddress(): unknown;
  httpsAddress(): unknown;
  readonly isDraining: boolean;
  currentView(): EdgeView;
}

export class AnycastController extends EventEmitter implements GatewayObserver {
  private readonly control: BirdControl;
  private announcer: AnycastAnnouncer | undefined;
  private view: EdgeView | undefined;
  private settings: BirdSettings | string = 'no view yet';
  private verdict: AnnounceVerdict = { healthy: false, reason: 'starting' };
  // What BIRD was last told successfully; undefined: nothing yet, or a failure.
  private appliedKey: string | undefined;
  private appliedAnnounce = false;
  private withdrawn = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastError: string | undefined;
  private lastChangeAt = 0;

  constructor(
    private readonly gateway: AnnouncedGateway,
    private readonly source: ViewSource,
    private readonly options: AnycastOptions,
    private readonly logger: Logger,
    control?: BirdControl,
  ) {
    super();
    this.control = control ?? new BirdControl({ socketPath: options.birdSocket, configPath: options.birdConfig, timeoutMs: 5_000 });
  }

  // BIRD announces the address now.
  get announcing(): boolean {
    return this.appliedKey !== undefined && this.appliedAnnounce;
  }

  get healthy(): boolean {
    return this.verdict.healthy;
  }

  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.evaluate(), TICK_MS);
    this.timer.unref();
    this.evaluate();
  }

  onView(view: EdgeView): void {
    this.view = view;
    const region = view.regions.get(view.region) as RegionResource | undefined;
    this.settings = birdSettings(region, this.options);
    if (this.started) this.evaluate();
  }

  // The gateway's beforeDrain: withdraw, then keep answering while routers
  // converge on another edge.
  async withdrawForDrain(): Promise<void> {
    const t0 = Date.now();
    this.withdrawn = true;
    await this.settle();
    this.logger.info({ ms: Date.now() - t0, announcing: this.announcing }, 'anycast withdrawn before draining');
    if (this.options.withdrawWaitMs > 0) await new Promise((r) => setTimeout(r, this.options.withdrawWaitMs));
  }

  evaluate(): void {
    const before = this.verdict;
    this.verdict = evaluateAnnounce({
      listenerUp: this.gateway.httpAddress() !== undefined || this.gateway.httpsAddress() !== undefined,
      draining: this.withdrawn || this.gateway.isDraining,
      freshness: this.freshness(),
      view: this.view ?? this.gateway.currentView(),
      now: Date.now(),
      staleAfterMs: this.options.staleAfterMs,
    });
    if (before.healthy !== this.verdict.healthy || (before.reason !== this.verdict.reason && !this.verdict.healthy)) {
      this.logger.info({ healthy: this.verdict.healthy, reason: this.verdict.reason }, 'anycast health');
    }
    this.kick();
  }

  private freshness(): Freshness {
    if (this.source.kind !== 'discovery') return { kind: 'static' };
    const s = this.source.status();
    const last = typeof s.lastMessageAt === 'string' ? Date.parse(s.lastMessageAt) : 0;
    return { kind: 'discovery', connected: s.connected === true, haveFullView: s.haveFullView === true, lastMessageAtMs: last };
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sync().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  // Waits until BIRD has been told the current decision.
  private async settle(): Promise<void> {
    this.kick();
    while (this.running) await this.running;
  }

  private async sync(): Promise<void> {
    const settings = this.settings;
    if (typeof settings === 'string') {
      if (this.lastError !== settings) this.logger.warn({ reason: settings }, 'anycast: not driving BIRD');
      this.lastError = settings;
      return;
    }
    const announce = this.verdict.healthy && !this.withdrawn;
    const key = JSON.stringify(settings);
    if (key === this.appliedKey && announce === this.appliedAnnounce) return;
    const wasAnnouncing = this.announcing;
    const t0 = Date.now();
    try {
      if (this.announcer === undefined || key !== this.appliedKey) {
        this.announcer = new AnycastAnnouncer(this.control, settings, announce);
        await this.control.apply(this.announcer.render());
      } else {
        await this.announcer.announce(announce);
      }
      this.appliedKey = key;
      this.appliedAnnounce = announce;
      this.lastError = undefined;
    } catch (err) {
      this.appliedKey = undefined;
      const message = (err as Error).message;
      if (this.lastError !== message) this.logger.error({ err: message }, 'anycast: BIRD refused the change; retrying every second');
      this.lastError = message;
    }
    if (this.announcing !== wasAnnouncing) {
      this.lastChangeAt = Date.now();
      this.logger.info({ announcing: this.announcing, reason: this.verdict.reason, birdMs: Date.now() - t0 }, this.announcing ? 'anycast announced' : 'anycast withdrawn');
      this.emit('change', this.announcing);
    }
  }

  healthFields(): Record<string, string | boolean> {
    return { announcing: this.announcing, anycast: this.verdict.reason };
  }

  summary(): Record<string, unknown> {
    const s = this.settings;
    return {
      anycast: {
        announcing: this.announcing,
        healthy: this.verdict.healthy,
        reason: this.verdict.reason,
        addresses: typeof s === 'string' ? [] : s.anycast,
        neighbors: typeof s === 'string' ? [] : s.neighbors.map((n) => `${n.address} AS${n.as}${n.bfd ? ' bfd' : ''}`),
        problem: typeof s === 'string' ? s : this.lastError,
        lastChange: this.lastChangeAt ? new Date(this.lastChangeAt).toISOString() : undefined,
      },
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.started = false;
  }
}
