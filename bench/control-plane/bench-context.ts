// What every phase of the bench shares: the options, the processes, the
// simulated proxies, the health-check targets, and the results so far.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchOptions } from './options';
import type { Stack } from './stack';
import type { Fleet } from './fleet';
import type { BenchChild } from './child';
import type { TargetsCommand, TargetsReply } from './health-targets-process';
import type { ZoneApi } from './zone-api';
import type { EdgeLog } from './edge-log';
import { ProcSampler } from './proc-sampler';
import { regionName, type Sizes } from './fixtures';

export interface PhaseResult {
  ok: boolean;
  seconds: number;
  error?: string;
  [k: string]: unknown;
}

export class BenchContext {
  readonly sizes: Sizes;
  readonly results: Record<string, PhaseResult> = {};
  readonly zoneApis = new Map<string, ZoneApi>();
  fleet!: Fleet;
  targets!: BenchChild<TargetsCommand, TargetsReply>;
  gridPorts: number[] = [];
  probePorts: number[] = [];
  edgeLog: EdgeLog | undefined;
  readonly sampler: ProcSampler;
  // Other work on the machine skews the figures: recorded with them.
  readonly loadAtStart = os.loadavg()[0]!.toFixed(1);
  private step = 0;

  constructor(readonly opts: BenchOptions, readonly stack: Stack, readonly runDir: string, readonly totalSteps: number) {
    this.sizes = { regions: opts.regions, services: opts.services };
    this.sampler = new ProcSampler(() => this.pids());
  }

  get regionNames(): string[] {
    return Array.from({ length: this.opts.regions }, (_, r) => regionName(r));
  }

  // Simulated proxies of the main regions.
  get proxyNames(): string[] {
    return [...this.fleet.proxies.values()].filter((p) => this.regionNames.includes(p.region)).map((p) => p.name);
  }

  pids(): Record<string, number | undefined> {
    return { ...this.stack.pids(), 'bench-proxies': this.fleet?.child.pid, 'bench-targets': this.targets?.pid, 'bench-driver': process.pid };
  }

  progress(what: string): void {
    this.step++;
    console.log(`[${this.step}/${this.totalSteps}] ${what}`);
  }

  note(what: string): void {
    console.log(`      ${what}`);
  }

  // Runs one phase; a failure is recorded and rethrown when `fatal`.
  async phase(name: string, fatal: boolean, fn: () => Promise<Record<string, unknown>>): Promise<boolean> {
    const started = Date.now();
    try {
      const out = await fn();
      this.results[name] = { ok: true, seconds: secondsSince(started), ...out };
      return true;
    } catch (err) {
      const message = (err as Error).message;
      this.results[name] = { ok: false, seconds: secondsSince(started), error: message.slice(0, 2000) };
      this.note(`FAILED: ${message.split('\n')[0]}`);
      if (fatal) throw err;
      return false;
    }
  }

  logTail(process: string, lines = 20): string {
    try {
      return fs.readFileSync(path.join(this.runDir, 'logs', `${process}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

export function secondsSince(t: number): number {
  return Math.round((Date.now() - t) / 100) / 10;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Polls fn every `everyMs` until it returns a value or the deadline passes.
export async function poll<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}
