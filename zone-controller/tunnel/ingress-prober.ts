// Measures, every interval, whether each remote region's ingress answers over
// the tunnel and how long a TCP handshake to it takes. The handshake age of a
// WireGuard peer only says a key exchange happened in the last minutes; a
// probe says the path works now, and its time is the round trip the edges
// order regions by.
//
// A region goes down after `downAfterMisses` probes in a row missed, and
// back up only after `upAfterSuccesses` in a row answered (hysteresis: right
// after a tunnel heals, WireGuard may still be re-handshaking, and requests
// sent direct then would hang). Probes do not wait for each other: one starts
// every interval even while older ones wait for their timeout, so a dead path
// is declared about interval x (misses - 1) + timeout after it died; results
// are taken in the order the probes started.
import { probeTcpConnect, probeTimeoutMs, type TcpProbeResult } from '../../lib/net/tcp-connect-probe';

export interface ProbeTarget {
  region: string;
  address: string; // host:port
}

export interface ProbeResult {
  up: boolean;
  rttMs: number;
}

// Each probe's timeout follows the region's round trip (probeTimeoutMs:
// 4 round trips, 300 ms to 1 s).
export interface IngressProberOptions {
  intervalMs: number;
  downAfterMisses: number;
  upAfterSuccesses: number;
}

// Probes of one region waiting at once (a bound when timeouts exceed the interval).
const MAX_IN_FLIGHT = 8;
// A round trip that drifted (over 1 ms and 20 % from the one last reported)
// is reported at most this often: every report goes to the global
// controller and every edge, and a busy host's probes jitter.
const RTT_REPORT_MS = 1000;

interface RegionProbes extends ProbeResult {
  misses: number;
  successes: number;
  // Sequence number of the newest probe whose result was taken.
  taken: number;
  inFlight: number;
  // The round trip last reported, and when (performance.now()).
  reportedRttMs: number;
  reportedAt: number;
}

export class IngressProber {
  private readonly results = new Map<string, RegionProbes>();
  private timer: NodeJS.Timeout | undefined;
  private sequence = 0;

  constructor(
    private readonly targets: () => ProbeTarget[],
    private readonly onChange: () => void,
    private readonly opts: IngressProberOptions,
    private readonly probe: (address: string, timeoutMs: number) => Promise<TcpProbeResult> = probeTcpConnect,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.round(), this.opts.intervalMs);
    this.timer.unref();
    this.round();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get(region: string): ProbeResult | undefined {
    const r = this.results.get(region);
    return r === undefined || r.taken === 0 ? undefined : { up: r.up, rttMs: r.rttMs };
  }

  private round(): void {
    const targets = this.targets();
    const seen = new Set(targets.map((t) => t.region));
    let changed = false;
    for (const region of this.results.keys()) if (!seen.has(region) && this.results.delete(region)) changed = true;
    if (changed) this.onChange();
    for (const t of targets) {
      let state = this.results.get(t.region);
      if (state === undefined) {
        state = { up: false, rttMs: 0, misses: 0, successes: 0, taken: 0, inFlight: 0, reportedRttMs: 0, reportedAt: 0 };
        this.results.set(t.region, state);
      }
      if (state.inFlight >= MAX_IN_FLIGHT) continue;
      const timeoutMs = probeTimeoutMs(state.rttMs);
      const seq = ++this.sequence;
      const probing = state;
      probing.inFlight++;
      void this.probe(t.address, timeoutMs).then((r) => {
        probing.inFlight--;
        // The region left (or came back as a new entry) meanwhile.
        if (this.results.get(t.region) !== probing) return;
        if (this.take(probing, seq, r)) this.onChange();
      });
    }
  }

  // Takes one probe's result; true when what the edges see changed.
  private take(state: RegionProbes, seq: number, r: TcpProbeResult): boolean {
    // A newer probe already answered: this one says less about now.
    if (seq < state.taken) return false;
    const first = state.taken === 0;
    state.taken = seq;
    const wasUp = state.up;
    if (r.up) {
      state.misses = 0;
      state.successes++;
      state.rttMs = state.up ? state.rttMs * 0.7 + r.rttMs * 0.3 : r.rttMs;
      // Nothing known before: up at once. Down before: only after a few.
      if (first || state.successes >= this.opts.upAfterSuccesses) state.up = true;
    } else {
      state.successes = 0;
      state.misses++;
      if (first || state.misses >= this.opts.downAfterMisses) state.up = false;
    }
    const now = performance.now();
    const drifted = state.up && Math.abs(state.reportedRttMs - state.rttMs) > Math.max(1, state.reportedRttMs * 0.2) && now - state.reportedAt >= RTT_REPORT_MS;
    if (!first && wasUp === state.up && !drifted) return false;
    state.reportedRttMs = state.rttMs;
    state.reportedAt = now;
    return true;
  }
}
