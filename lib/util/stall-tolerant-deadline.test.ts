// The deadline on controlled time: a stall of the event loop is the clock
// jumping ahead while no timer fires, as a blocked or descheduled process
// sees it.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { stallTolerantDeadline } from './stall-tolerant-deadline';

// Mocked setTimeout and Date (the verdict's setImmediate stays real: the
// runner awaits it); expiredAt is the clock when the deadline expired.
function controlled(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  let expiredAt: number | undefined;
  const loopTurn = () => new Promise((resolve) => setImmediate(resolve));
  return {
    start(timeoutMs: number) {
      return stallTolerantDeadline(timeoutMs, () => (expiredAt = Date.now()), () => Date.now());
    },
    // Time passes with the loop running: timers fire when due.
    async advance(ms: number) {
      t.mock.timers.tick(ms);
      await loopTurn();
    },
    // The loop was blocked for ms: the clock moved and nothing fired; then
    // the loop runs again and the timers now due fire.
    async stall(ms: number) {
      t.mock.timers.setTime(Date.now() + ms);
      t.mock.timers.tick(0);
      await loopTurn();
    },
    get expiredAt() {
      return expiredAt;
    },
  };
}

describe('stallTolerantDeadline', () => {
  it('expires after its timeout on an idle loop, never before', async (t) => {
    const c = controlled(t);
    c.start(100);
    await c.advance(99);
    assert.equal(c.expiredAt, undefined, 'not before its timeout');
    await c.advance(1);
    assert.equal(c.expiredAt, 100);
  });

  it('is set again for as long as its timer was late', async (t) => {
    const c = controlled(t);
    c.start(100);
    // Blocked 150 ms: the timer fires 50 ms late and is set again for 50 ms.
    await c.stall(150);
    assert.equal(c.expiredAt, undefined, 'a late timer is not a verdict');
    await c.advance(49);
    assert.equal(c.expiredAt, undefined);
    await c.advance(1);
    assert.equal(c.expiredAt, 200);
  });

  it('expires within 3 timeouts however long the stall', async (t) => {
    const c = controlled(t);
    c.start(100);
    // Blocked past 3 timeouts: it expires as soon as the loop runs again.
    await c.stall(400);
    assert.equal(c.expiredAt, 400);
  });

  it('a timer late by no more than the tolerance expires it', async (t) => {
    const c = controlled(t);
    c.start(100);
    await c.stall(150); // 50 ms late: set again until 200
    await c.stall(70); // fires at 220, 20 ms late: within the tolerance
    assert.equal(c.expiredAt, 220);
  });

  it('under repeated stalls it stops being set again at 3 timeouts', async (t) => {
    const c = controlled(t);
    c.start(100);
    await c.stall(180); // 80 ms late: set again until 260
    await c.stall(130); // fires at 310, late again, but past 3 timeouts (300)
    assert.equal(c.expiredAt, 310);
  });

  it('a deadline cleared during a stall never expires', async (t) => {
    const c = controlled(t);
    const d = c.start(20);
    t.mock.timers.setTime(Date.now() + 40);
    d.clear();
    await c.advance(1_000);
    assert.equal(c.expiredAt, undefined);
  });
});
