// The deadline with the event loop blocked the way a loaded host blocks it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stallTolerantDeadline } from './stall-tolerant-deadline';

function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

// ms from the start to expiry. The deadline's timer is unref'd (it must
// not keep a process alive): the interval keeps this one alive meanwhile.
function expiry(timeoutMs: number, blockMs: number): Promise<number> {
  const t0 = performance.now();
  const alive = setInterval(() => undefined, 1000);
  return new Promise((resolve) => {
    stallTolerantDeadline(timeoutMs, () => {
      clearInterval(alive);
      resolve(performance.now() - t0);
    });
    blockLoop(blockMs);
  });
}

describe('stallTolerantDeadline', () => {
  it('expires after its timeout on an idle loop, never before', async (t) => {
    const ms = await expiry(100, 0);
    assert.ok(ms >= 99, `expired early: ${Math.round(ms)} ms`);
    t.diagnostic(`expired after ${Math.round(ms)} ms`);
  });

  it('is set again for as long as its timer was late, and expires within 3 timeouts however long the stall', async () => {
    // Blocked 150 ms: the timer fires 50 ms late and is set again for 50 ms.
    const late = await expiry(100, 150);
    assert.ok(late >= 195 && late < 300, `blocked 150 ms: ${Math.round(late)} ms`);
    // Blocked 400 ms: past 3 timeouts, it expires at once.
    const capped = await expiry(100, 400);
    assert.ok(capped >= 400 && capped < 480, `blocked 400 ms: ${Math.round(capped)} ms`);
  });

  it('a cleared deadline never expires', async () => {
    let expired = 0;
    const d = stallTolerantDeadline(20, () => expired++);
    blockLoop(40);
    d.clear();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const e = stallTolerantDeadline(20, () => expired++);
    await new Promise((resolve) => setTimeout(resolve, 100));
    e.clear();
    assert.equal(expired, 1);
  });
});
