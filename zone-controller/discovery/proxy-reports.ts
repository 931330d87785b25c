// What the region's proxies last reported about themselves (anycast
// announcement, traffic, in-flight load, mesh listener addresses). A proxy
// that stops reporting is forgotten after a few seconds.
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { canonicalMeshAddress, meshAddressesProblem } from '../../lib/net/mesh-addresses';
import type { ProxyReport__Output } from '../../proto/generated/meridian/discovery/v1/ProxyReport';

// Proxies report every second: a report older than this is from a proxy
// that is gone or cut off.
export const FORGET_AFTER_MS = 5000;

export interface MeshAddresses {
  v4: string[];
  v6: string[];
}

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

  // Keeps the report; returns why it was refused instead (the proxy's
  // previous report stays, and is forgotten in time like any other).
  put(report: ProxyReport__Output): string | undefined {
    const problem = meshAddressesProblem(report.meshAddresses ?? []);
    if (problem) return problem;
    const prev = this.reports.get(report.proxy)?.report;
    this.reports.set(report.proxy, { report, atMs: Date.now() });
    // Traffic figures move every second; announce and health flips matter at once.
    this.emit('change', !prev || prev.announcing !== report.announcing || prev.healthy !== report.healthy);
    return undefined;
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

  // Every address of the region's mesh listeners a workload can use now: of
  // the edges whose last report is fresh and healthy (a draining edge reports
  // none), by family, each once, sorted so answers do not churn.
  meshAddresses(): MeshAddresses {
    const now = Date.now();
    const all = new Set<string>();
    for (const { report, atMs } of this.reports.values()) {
      if (now - atMs > FORGET_AFTER_MS || !report.healthy || report.mode !== 'edge') continue;
      for (const a of report.meshAddresses ?? []) all.add(canonicalMeshAddress(a));
    }
    const sorted = [...all].sort();
    return { v4: sorted.filter((a) => isIPv4(a)), v6: sorted.filter((a) => !isIPv4(a)) };
  }

  private expire(): void {
    const now = Date.now();
    let changed = false;
    for (const [name, r] of this.reports) if (now - r.atMs > FORGET_AFTER_MS && this.reports.delete(name)) changed = true;
    if (changed) this.emit('change', true);
  }
}
