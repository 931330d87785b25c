// Active health checks of the region's instances: one check loop per
// instance, with thresholds so that one lost probe does not flap an instance.
import type { Logger } from '../../lib/observability/logger';
import { probeHttp, probeTcp, type ProbeResult } from './probes';

// A Service's healthCheck with its durations already parsed.
export interface HealthCheckSpec {
  type: 'http' | 'tcp';
  // http only
  path: string;
  // http only
  expectedStatus: number;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface HealthTarget {
  id: string;
  address: string;
  port: number;
  check: HealthCheckSpec;
}

export interface HealthCheckerOptions {
  // Called only when an instance crosses a threshold.
  onChange: (id: string, healthy: boolean) => void;
  logger?: Logger;
  // Upper bound of the random delay before an instance's first check; default 1000.
  maxFirstCheckJitterMs?: number;
  // How one check is made; default the HTTP or TCP probe the spec names.
  probe?: Probe;
}

export type Probe = (target: HealthTarget, signal: AbortSignal) => Promise<ProbeResult>;

const DEFAULT_MAX_FIRST_CHECK_JITTER_MS = 1000;

export class HealthChecker {
  private readonly loops = new Map<string, CheckLoop>();
  private readonly onChange: (id: string, healthy: boolean) => void;
  private readonly logger: Logger | undefined;
  private readonly maxFirstCheckJitterMs: number;
  private readonly probe: Probe;

  constructor(options: HealthCheckerOptions) {
    this.onChange = options.onChange;
    this.logger = options.logger;
    this.maxFirstCheckJitterMs = options.maxFirstCheckJitterMs ?? DEFAULT_MAX_FIRST_CHECK_JITTER_MS;
    this.probe = options.probe ?? probeTarget;
  }

  // Makes the running loops match targets: starts new ids, stops missing ones,
  // restarts those whose endpoint or check changed. A restarted loop keeps the
  // instance's current health and only resets its counters, so the caller's
  // view and ours never disagree.
  sync(targets: readonly HealthTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.id, t]));
    for (const id of this.loops.keys()) if (!wanted.has(id)) this.syncOne(id, undefined);
    for (const [id, target] of wanted) this.syncOne(id, target);
  }

  // The same for one instance, when only it changed: `undefined` stops its checks.
  syncOne(id: string, target: HealthTarget | undefined): void {
    const current = this.loops.get(id);
    if (!target) {
      current?.stop();
      this.loops.delete(id);
      return;
    }
    if (current && sameTarget(current.target, target)) return;
    current?.stop();
    const loop = new CheckLoop({ ...target, check: { ...target.check } }, this.probe, this.report, current?.healthy ?? false);
    this.loops.set(id, loop);
    loop.start(Math.random() * Math.min(target.check.intervalMs, this.maxFirstCheckJitterMs));
  }

  stop(): void {
    for (const loop of this.loops.values()) loop.stop();
    this.loops.clear();
  }

  private readonly report = (target: HealthTarget, healthy: boolean, result: ProbeResult): void => {
    this.logger?.info({ instance: target.id, address: target.address, port: target.port, healthy, reason: result.reason }, healthy ? 'instance is healthy' : 'instance is unhealthy');
    try {
      this.onChange(target.id, healthy);
    } catch (err) {
      // A throwing listener must not kill the check loop (it runs detached from any caller).
      this.logger?.error({ err, instance: target.id }, 'health change listener failed');
    }
  };
}

class CheckLoop {
  private passes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;
  private stopped = false;

  constructor(
    readonly target: HealthTarget,
    private readonly probe: Probe,
    private readonly report: (target: HealthTarget, healthy: boolean, result: ProbeResult) => void,
    // Carried over when a loop is restarted with a new spec.
    public healthy: boolean,
  ) {}

  start(delayMs: number): void {
    this.schedule(delayMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inFlight?.abort();
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.runOnce(), delayMs);
    this.timer.unref();
  }

  // The next check starts one interval after this one started, or as soon as
  // it ends if it took longer: checks of one instance never overlap.
  private async runOnce(): Promise<void> {
    const startedAt = Date.now();
    const controller = new AbortController();
    this.inFlight = controller;
    let result: ProbeResult;
    try {
      result = await this.probe(this.target, controller.signal);
    } catch (err) {
      result = { ok: false, reason: (err as Error).message };
    }
    this.inFlight = undefined;
    if (this.stopped) return;
    this.record(result);
    if (this.stopped) return;
    this.schedule(Math.max(0, startedAt + this.target.check.intervalMs - Date.now()));
  }

  private record(result: ProbeResult): void {
    const { healthyThreshold, unhealthyThreshold } = this.target.check;
    if (result.ok) {
      this.failures = 0;
      this.passes++;
      if (!this.healthy && this.passes >= healthyThreshold) {
        this.healthy = true;
        this.report(this.target, true, result);
      }
    } else {
      this.passes = 0;
      this.failures++;
      if (this.healthy && this.failures >= unhealthyThreshold) {
        this.healthy = false;
        this.report(this.target, false, result);
      }
    }
  }
}

function probeTarget({ address, port, check }: HealthTarget, signal: AbortSignal): Promise<ProbeResult> {
  return check.type === 'http'
    ? probeHttp({ address, port, path: check.path, expectedStatus: check.expectedStatus, timeoutMs: check.timeoutMs }, signal)
    : probeTcp({ address, port, timeoutMs: check.timeoutMs }, signal);
}

function sameTarget(a: HealthTarget, b: HealthTarget): boolean {
  const x = a.check;
  const y = b.check;
  return (
    a.address === b.address && a.port === b.port &&
    x.type === y.type && x.path === y.path && x.expectedStatus === y.expectedStatus &&
    x.intervalMs === y.intervalMs && x.timeoutMs === y.timeoutMs &&
    x.healthyThreshold === y.healthyThreshold && x.unhealthyThreshold === y.unhealthyThreshold
  );
}
