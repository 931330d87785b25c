// What the region's proxies last reported about themselves (anycast
// announcement, traffic, in-flight load). A proxy that stops reporting is
// forgotten after a few seconds.
import { EventEmitter } from 'node:events';
import type { ProxyReport__Output } from '../../proto/generated/meridian/discovery/v1/ProxyReport';

const FORGET_AFTER_MS = 5000;

export declare interface ProxyReports {
  // urgent: a proxy appeared, went, or flipped health or announcement.
  on(event: 'change', listener: (urgent: boolean) => void): this;
}

export class ProxyReports extends EventEmitter {
  private readonly reports = new Map<string, { report: ProxyReport__Output; atMs: number }>();
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.timer = setInterval(() => this.expire(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  put(report: ProxyReport__Output): void {
    const prev = this.reports.get(report.proxy)?.report;
    this.reports.set(report.proxy, { report, atMs: Date.now() });
    // Traffic figures move every second; announce and health flips matter at once.
    this.emit('change', !prev || prev.announcing !== report.announcing || prev.healthy !== report.healthy);
  }

  all(): ProxyReport__Output[] {
    return [...this.reports.values()].map((r) => r.report);
  }

  // In-flight requests per service across every proxy of the region.
  load(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { report } of this.reports.values()) for (const [svc, n] of Object.entries(report.inFlight)) out[svc] = (out[svc] ?? 0) + n;
    return out;
  }

  private expire(): void {
    const now = Date.now();
    let changed = false;
    for (const [name, r] of this.reports) if (now - r.atMs > FORGET_AFTER_MS && this.reports.delete(name)) changed = true;
    if (changed) this.emit('change', true);
  }
}
