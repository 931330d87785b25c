// Resident memory and open file descriptors of named processes, read from
// /proc every few seconds. A process is known by name and pid: an instance
// restarted under the same name is a new series.
import * as fs from 'node:fs';
import { rssMb } from '../control-plane/proc-sampler';
import type { NamedProcess } from './process-tree';

export interface ResourcePoint {
  // Seconds since the sampler started.
  s: number;
  rssMb: number;
  fds: number;
}

export interface ResourceSeries {
  name: string;
  pid: number;
  points: ResourcePoint[];
}

export function openFds(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export class ResourceSampler {
  readonly series = new Map<string, ResourceSeries>();
  private readonly t0 = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly processes: () => NamedProcess[]) {}

  sample(): void {
    const s = Math.round((Date.now() - this.t0) / 100) / 10;
    for (const { name, pid } of this.processes()) {
      const rss = rssMb(pid);
      const fds = openFds(pid);
      // Gone between listing and reading.
      if (!Number.isFinite(rss) || !Number.isFinite(fds)) continue;
      const key = `${name}#${pid}`;
      let one = this.series.get(key);
      if (!one) this.series.set(key, (one = { name, pid, points: [] }));
      one.points.push({ s, rssMb: rss, fds });
    }
  }

  start(everyMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
