// Waits for a lab process's parsed results (a list it appends to as lines
// come) to hold one that satisfies `pred`, from index `from` on; fails when
// the process ended or the time is up, naming the last results.
import type { LabProcess } from './lab-process';

export async function waitForResult<T>(
  results: readonly T[],
  process: LabProcess,
  pred: (r: T) => boolean,
  timeoutMs: number,
  from: number,
  describeLast: (last: T[]) => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = results.slice(from).find(pred);
    if (hit) return hit;
    if (!process.running) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${process.name}: condition not met in ${timeoutMs} ms; last: ${describeLast(results.slice(-5))}`);
}
