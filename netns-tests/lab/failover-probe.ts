// Measures how long the eu client takes to move from one region to another
// while something is done to the network, from a prober that asks the
// anycast address every few milliseconds on a fresh connection.
import type { Prober } from './services';

export interface Move {
  // From the action to the first answer from the new region.
  gapMs: number;
  // Probes that failed (no answer, reset, timeout) in between.
  failed: number;
  // Probes answered by the old region after the action.
  stale: number;
}

export async function measureMove(prober: Prober, from: string, to: string, action: () => Promise<unknown>, timeoutMs: number): Promise<Move> {
  await prober.waitFor((r) => r.ok && r.body === from, 5000, Math.max(0, prober.results.length - 1));
  const start = prober.results.length;
  const t0 = Date.now();
  await action();
  const hit = await prober.waitFor((r) => r.ok && r.body === to && r.t >= t0, timeoutMs, start);
  const between = prober.results.slice(start).filter((r) => r.t >= t0 && r.t < hit.t);
  return { gapMs: hit.t + hit.ms - t0, failed: between.filter((r) => !r.ok).length, stale: between.filter((r) => r.ok && r.body === from).length };
}

export const describeMove = (m: Move): string => `${m.gapMs} ms (${m.failed} failed probes, ${m.stale} still answered by the old region)`;
