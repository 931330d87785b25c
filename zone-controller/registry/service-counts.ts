// Healthy and total instances per service, kept up to date from the
// registry's changes, and which services changed since they were last
// reported: the zone reports these counts, not its instances one by one.
import type { InstanceChange, InstanceRegistry } from './instance-registry';

export interface ServiceCount {
  service: string;
  healthy: number;
  total: number;
}

export interface ServiceCountsReport {
  // Every service when `partial` is false; else those that changed.
  services: ServiceCount[];
  removed: string[];
  partial: boolean;
}

export class ServiceCounts {
  private readonly counts = new Map<string, { healthy: number; total: number }>();
  private readonly changed = new Set<string>();

  constructor(registry: InstanceRegistry) {
    for (const i of registry.list()) this.apply(i.service, 1, i.healthy ? 1 : 0);
    registry.on('change', (c) => this.onChange(c));
  }

  get(service: string): { healthy: number; total: number } | undefined {
    return this.counts.get(service);
  }

  // What to report: everything (a new stream), or what changed since the last take.
  take(full: boolean): ServiceCountsReport {
    const services: ServiceCount[] = [];
    const removed: string[] = [];
    if (full) {
      for (const [service, c] of this.counts) services.push({ service, healthy: c.healthy, total: c.total });
    } else {
      for (const service of this.changed) {
        const c = this.counts.get(service);
        if (c) services.push({ service, healthy: c.healthy, total: c.total });
        else removed.push(service);
      }
    }
    this.changed.clear();
    return { services, removed, partial: !full };
  }

  private onChange(c: InstanceChange): void {
    const healthy = c.instance.healthy ? 1 : 0;
    if (c.type === 'registered') this.apply(c.instance.service, 1, healthy);
    else if (c.type === 'deregistered') this.apply(c.instance.service, -1, -healthy);
    else if (c.type === 'health') this.apply(c.instance.service, 0, healthy ? 1 : -1);
  }

  private apply(service: string, total: number, healthy: number): void {
    let c = this.counts.get(service);
    if (!c) this.counts.set(service, (c = { healthy: 0, total: 0 }));
    c.total += total;
    c.healthy += healthy;
    if (c.total <= 0) this.counts.delete(service);
    this.changed.add(service);
  }
}
