// The per-connection reset count: more than the limit within one second
// trips it once; resets spread over seconds do not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResetWindow } from './http2-reset-guard';

describe('ResetWindow', () => {
  it('trips on the reset that goes over the limit within a second, once', () => {
    let tripped = 0;
    const w = new ResetWindow(3, () => tripped++);
    assert.deepEqual([w.add(0), w.add(100), w.add(200)], [false, false, false]);
    assert.equal(w.add(300), true);
    assert.equal(tripped, 1);
    assert.equal(w.add(400), false);
    assert.equal(tripped, 1);
  });

  it('starts a new count each second', () => {
    let tripped = 0;
    const w = new ResetWindow(3, () => tripped++);
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 3; i++) w.add(second * 1_000 + i * 10);
    }
    assert.equal(tripped, 0);
  });
});
