// One leader among the global controller replicas, through an etcd election
// on a short lease: a leader that dies loses the lease within ttlSeconds and
// another replica's campaign wins. The leader runs the singleton work.
import { EventEmitter } from 'node:events';
import type { Campaign, Etcd3 } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';

export declare interface LeaderElection {
  on(event: 'elected' | 'lost', listener: () => void): this;
}

export class LeaderElection extends EventEmitter {
  private campaign: Campaign | undefined;
  private leading = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly etcd: Etcd3,
    private readonly replica: string,
    private readonly logger: Logger,
    private readonly ttlSeconds = 5,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.run();
  }

  // The current leader's replica name, as etcd has it.
  async leader(): Promise<string | undefined> {
    return this.etcd.election('meridian-global-controller', this.ttlSeconds).leader();
  }

  private run(): void {
    if (this.stopped) return;
    const campaign = this.etcd.election('meridian-global-controller', this.ttlSeconds).campaign(this.replica);
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.stopped || campaign !== this.campaign) return;
      this.leading = true;
      this.logger.info({ replica: this.replica }, 'elected leader');
      this.emit('elected');
    });
    campaign.on('error', (err: Error) => {
      // The lease was lost (etcd away, or too slow to keep it alive): stop
      // leading at once and campaign again when etcd answers.
      if (campaign !== this.campaign) return;
      this.logger.warn({ err: err.message }, 'leader campaign failed; campaigning again');
      this.stepDown();
      this.campaign = undefined;
      void campaign.resign().catch(() => undefined);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.run(), 1000);
      this.retryTimer.unref();
    });
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.emit('lost');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const campaign = this.campaign;
    this.campaign = undefined;
    this.stepDown();
    // Resigning hands leadership over at once instead of after the lease TTL.
    await campaign?.resign().catch(() => undefined);
  }
}
