// Resident memory and CPU of named processes, read from /proc, on demand or
// every second in the background.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';

export interface ProcSample {
  rssMb: number;
  // Share of one core since the previous sample of this process.
  cpuPercent: number;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
  } catch {
    return NaN;
  }
}

function cpuTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

// Busy and total ticks of the whole machine (every core).
function machineTicks(): { busy: number; total: number } {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    // idle and iowait are not busy.
    return { busy: total - cpu[3]! - (cpu[4] ?? 0), total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

// The machine as a whole is sampled as MACHINE (CPU of every process, in % of
// one core): with the bench's own processes it tells what others took.
export const MACHINE = '(machine)';

export class ProcSampler {
  private readonly last = new Map<number, { ticks: number; at: number }>();
  private lastMachine = machineTicks();
  readonly series: { at: number; samples: Record<string, ProcSample> }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => Record<string, number | undefined>) {}

  sample(): Record<string, ProcSample> {
    const now = Date.now();
    const out: Record<string, ProcSample> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid) continue;
      const ticks = cpuTicks(pid);
      const prev = this.last.get(pid);
      this.last.set(pid, { ticks, at: now });
      const cpuPercent = prev && now > prev.at ? Math.round(((ticks - prev.ticks) / CLK_TCK / ((now - prev.at) / 1000)) * 1000) / 10 : NaN;
      out[name] = { rssMb: rssMb(pid), cpuPercent };
    }
    const m = machineTicks();
    const cores = os.availableParallelism();
    const share = (m.busy - this.lastMachine.busy) / (m.total - this.lastMachine.total);
    this.lastMachine = m;
    out[MACHINE] = { rssMb: NaN, cpuPercent: Math.round(share * cores * 1000) / 10 };
    return out;
  }

  // Every second into `series` until stop().
  start(everyMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.series.push({ at: Date.now(), samples: this.sample() }), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
