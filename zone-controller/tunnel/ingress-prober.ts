// Measures, every interval, whether each remote region's ingress answers over
// the tunnel and how long a TCP handshake to it takes. The handshake age of a
// WireGuard peer only says a key exchange happened in the last minutes; a
// probe says the path works now, and its time is the round trip the edges
// order regions by.
import * as net from 'node:net';

export interface ProbeTarget {
  region: string;
  address: string; // host:port
}

export interface ProbeResult {
  up: boolean;
  rttMs: number;
}

export function probeTcp(address: string, timeoutMs: number): Promise<ProbeResult> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) return Promise.resolve({ up: false, rttMs: 0 });
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const socket = net.connect({ host: m[1] ?? m[2], port: Number(m[3]) });
    const done = (up: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ up, rttMs: up ? Number(process.hrtime.bigint() - started) / 1e6 : 0 });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class IngressProber {
  private readonly results = new Map<string, ProbeResult & { failures: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly targets: () => ProbeTarget[],
    private readonly onChange: () => void,
    private readonly opts: { intervalMs: number; timeoutMs: number; downAfterFailures: number },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.round(), this.opts.intervalMs);
    this.timer.unref();
    void this.round();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get(region: string): ProbeResult | undefined {
    return this.results.get(region);
  }

  private async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const targets = this.targets();
      const seen = new Set(targets.map((t) => t.region));
      let changed = false;
      for (const region of this.results.keys()) if (!seen.has(region) && this.results.delete(region)) changed = true;
      const results = await Promise.all(targets.map((t) => probeTcp(t.address, this.opts.timeoutMs)));
      targets.forEach((t, i) => {
        const r = results[i]!;
        const prev = this.results.get(t.region);
        // One lost probe is noise; a few in a row is a broken path.
        const failures = r.up ? 0 : (prev?.failures ?? 0) + 1;
        const up = r.up || (!!prev?.up && failures < this.opts.downAfterFailures);
        const rttMs = r.up ? (prev?.up ? prev.rttMs * 0.7 + r.rttMs * 0.3 : r.rttMs) : (prev?.rttMs ?? 0);
        if (!prev || prev.up !== up || Math.abs(prev.rttMs - rttMs) > Math.max(1, prev.rttMs * 0.2)) changed = true;
        this.results.set(t.region, { up, rttMs, failures });
      });
      if (changed) this.onChange();
    } finally {
      this.running = false;
    }
  }
}
