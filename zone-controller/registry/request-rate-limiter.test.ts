import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestRateLimiter } from './request-rate-limiter';

describe('RequestRateLimiter', () => {
  it('takes the burst at once, then the rate; refills no further than the burst', () => {
    let now = 1_000;
    const limiter = new RequestRateLimiter(50, 100, () => now);
    for (let i = 0; i < 100; i++) assert.equal(limiter.take('a').ok, true, `request ${i + 1}`);
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 1 });
    now += 20; // one request's worth at 50/s
    assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('a').ok, false);
    now += 3_600_000;
    for (let i = 0; i < 100; i++) assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('a').ok, false, 'an hour idle gives the burst, not more');
  });

  it('tells a slow rate to wait as long as one request takes', () => {
    let now = 0;
    const limiter = new RequestRateLimiter(0.25, 1, () => now);
    assert.equal(limiter.take('a').ok, true);
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 4 });
    now += 3_999;
    assert.equal(limiter.take('a').ok, false);
    now += 1;
    assert.equal(limiter.take('a').ok, true);
  });

  it('holds only credentials that are spending once there are many', () => {
    let now = 0;
    const limiter = new RequestRateLimiter(1, 1, () => now);
    for (let i = 0; i < 10_000; i++) limiter.take(`idle-${i}`);
    now += 1_000;
    limiter.take('busy');
    assert.equal(limiter.size, 1, 'refilled buckets were dropped');
    assert.equal(limiter.take('busy').ok, false, 'the busy one kept its count');
  });
});
