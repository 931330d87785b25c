// Leader-only work: persist "offline" for zones silent for three heartbeats,
// so the fact survives the replica that saw it and every reader agrees.
import type { Logger } from '../../lib/observability/logger';
import type { ZoneStatusStore } from './zone-status-store';
import { isOnline } from './zone-status';

export class OfflineSweeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly zones: ZoneStatusStore, private readonly logger: Logger, private readonly everyMs: number) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sweep(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async sweep(): Promise<void> {
    const now = Date.now();
    for (const s of this.zones.liveness()) {
      if (!s.online || isOnline(s, now)) continue;
      try {
        if (await this.zones.markOffline(s.region)) {
          this.logger.warn({ region: s.region, lastHeartbeat: new Date(s.lastHeartbeatMs).toISOString() }, 'zone marked offline');
        }
      } catch (err) {
        this.logger.debug({ region: s.region, err: (err as Error).message }, 'could not mark zone offline');
      }
    }
  }
}
