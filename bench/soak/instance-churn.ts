// Kills the demo's echo instances at random and starts them again: every few
// seconds (random around a mean) one instance, in a random region, is
// SIGKILLed; a few seconds later a new echo server takes its port and id and
// is registered again with its zone controller. At most one instance per
// region is down at a time, so each region keeps serving. Registrations use
// the demo's instance token of the region for echo.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PartProcess } from '../../lib/process/part-process';
import { meridianBin } from '../../lib/process/meridian-bin';
import type { DemoEndpoints } from '../../cli/demo/demo-runner';

export interface ChurnEvent {
  s: number;
  region: string;
  instance: string;
  killedPid: number;
  restartedPid?: number;
  downMs?: number;
  error?: string;
}

interface Slot {
  region: string;
  zone: string;
  // The region's instance token for echo.
  token: string;
  id: string;
  address: string;
  port: number;
  pid: number;
  own?: PartProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DOWN_MIN_MS = 2000;
const DOWN_MAX_MS = 8000;

export class InstanceChurn {
  readonly events: ChurnEvent[] = [];
  private readonly slots: Slot[];
  private readonly down = new Set<string>();
  private stopped = false;
  private readonly t0 = Date.now();
  private loop: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(demo: DemoEndpoints, private readonly meanGapMs: number, private readonly logDir: string) {
    fs.mkdirSync(logDir, { recursive: true });
    this.slots = Object.entries(demo.regions).flatMap(([region, r]) => {
      const token = fs.readFileSync(r.instanceTokenFile, 'utf8').trim();
      return r.instances.map((i) => ({ region, zone: r.zoneController, token, ...i }));
    });
  }

  // The processes this churn started (restarted instances), for the sampler.
  get restarted(): { name: string; pid: number }[] {
    return this.slots.filter((s) => s.own?.running && s.own.pid).map((s) => ({ name: s.id, pid: s.own!.pid! }));
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        // Uniform in [0.5, 1.5] x the mean gap.
        await this.nap(this.meanGapMs * (0.5 + Math.random()));
        if (this.stopped) break;
        const candidates = this.slots.filter((s) => !this.down.has(s.region));
        if (!candidates.length) continue;
        const slot = candidates[Math.floor(Math.random() * candidates.length)]!;
        const p = this.restart(slot).finally(() => this.pending.delete(p));
        this.pending.add(p);
      }
    })();
  }

  // A sleep that stop() cuts short.
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async restart(slot: Slot): Promise<void> {
    this.down.add(slot.region);
    const event: ChurnEvent = { s: Math.round((Date.now() - this.t0) / 100) / 10, region: slot.region, instance: slot.id, killedPid: slot.pid };
    this.events.push(event);
    const t = Date.now();
    try {
      process.kill(slot.pid, 'SIGKILL');
      await sleep(DOWN_MIN_MS + Math.random() * (DOWN_MAX_MS - DOWN_MIN_MS));
      const echo = new PartProcess({
        name: `${slot.id}-restarted`,
        command: process.execPath,
        args: [meridianBin(), 'echo-server', '--listen', `${slot.address}:${slot.port}`, '--service', 'echo', '--region', slot.region, '--instance', slot.id],
        logDir: this.logDir,
      });
      echo.start();
      await this.waitListening(slot, echo);
      const res = await fetch(`${slot.zone}/v1/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${slot.token}` },
        body: JSON.stringify({ id: slot.id, service: 'echo', address: slot.address, port: slot.port }),
        signal: AbortSignal.timeout(5000),
      });
      if (res.status !== 200 && res.status !== 201) throw new Error(`registering ${slot.id}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
      slot.own = echo;
      slot.pid = echo.pid!;
      event.restartedPid = echo.pid;
      event.downMs = Date.now() - t;
    } catch (err) {
      event.error = (err as Error).message;
    } finally {
      this.down.delete(slot.region);
    }
  }

  private async waitListening(slot: Slot, echo: PartProcess): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!echo.running) throw new Error(`${slot.id} exited at once: ${echo.tail(5)}`);
      const ok = await fetch(`http://${slot.address}:${slot.port}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${slot.id} not listening on ${slot.port} after 15 s (log ${path.join(this.logDir, `${slot.id}-restarted.log`)})`);
  }

  // Stops killing, waits for restarts under way, and stops the instances it
  // started (the demo stops its own).
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.pending]);
    await Promise.all(this.slots.map((s) => s.own?.stop()));
  }
}
