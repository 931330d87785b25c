import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Endpoint } from './endpoint';
import { OutlierDetector } from './outlier-detector';
import { P2CBalancer } from './p2c-balancer';

function endpoints(n: number, weights: number[] = []): Endpoint[] {
  return Array.from({ length: n }, (_, i) => new Endpoint(`127.0.0.1:${i + 1}`, `i${i}`, '127.0.0.1', i + 1, weights[i] ?? 1, null as never));
}

function counts(b: P2CBalancer, n: number, now = 0): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = b.pick(now, null)!;
    m.set(e.id, (m.get(e.id) ?? 0) + 1);
  }
  return m;
}

describe('P2C balancer', () => {
  it('prefers the faster endpoint', () => {
    const b = new P2CBalancer();
    const [fast, slow] = endpoints(2);
    b.setEndpoints([fast, slow]);
    for (let t = 0; t < 20; t++) {
      b.onSuccess(fast, 2, t);
      b.onSuccess(slow, 40, t);
    }
    const c = counts(b, 1000);
    assert.equal(c.get('i1') ?? 0, 0, 'with two endpoints the better score always wins');
    assert.equal(c.get('i0'), 1000);
  });

  it('prefers the less loaded endpoint at equal latency', () => {
    const b = new P2CBalancer();
    const eps = endpoints(3);
    b.setEndpoints(eps);
    eps[0].outstanding = 10;
    const c = counts(b, 3000);
    // i0 wins only when drawn twice... it is never drawn with itself: it never wins.
    assert.ok((c.get('i0') ?? 0) < 100, `loaded endpoint got ${c.get('i0')}`);
    assert.ok((c.get('i1') ?? 0) > 1000 && (c.get('i2') ?? 0) > 1000);
  });

  it('honors weights', () => {
    const b = new P2CBalancer();
    const eps = endpoints(2, [3, 1]);
    b.setEndpoints(eps);
    // Simulate load: each pick holds one request until 4 are outstanding.
    const got = new Map<string, number>();
    const held: Endpoint[] = [];
    for (let i = 0; i < 4000; i++) {
      const e = b.pick(0, null)!;
      got.set(e.id, (got.get(e.id) ?? 0) + 1);
      e.outstanding++;
      held.push(e);
      if (held.length > 8) held.shift()!.outstanding--;
    }
    const ratio = (got.get('i0') ?? 0) / (got.get('i1') ?? 1);
    assert.ok(ratio > 2 && ratio < 4.5, `weight 3 vs 1 got ratio ${ratio}`);
  });

  it('avoids the endpoints a retry asks it to', () => {
    const b = new P2CBalancer();
    const eps = endpoints(3);
    b.setEndpoints(eps);
    for (let i = 0; i < 200; i++) assert.notEqual(b.pick(0, [eps[0], eps[1]]), eps[0]);
    assert.equal(b.pick(0, [eps[0], eps[1]]), eps[2]);
    assert.equal(b.pick(0, eps), null);
  });
});

describe('outlier ejection', () => {
  it('ejects after consecutive failures, for a time that doubles, and lets the endpoint back', () => {
    const b = new P2CBalancer(new OutlierDetector({ consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionPercent: 50 }));
    const eps = endpoints(2);
    b.setEndpoints(eps);
    b.onFailure(eps[0], 0);
    b.onFailure(eps[0], 0);
    assert.equal(b.onFailure(eps[0], 0), 1_000, 'third failure ejects for the base time');
    assert.equal(b.available(1), 1);
    for (let i = 0; i < 100; i++) assert.equal(b.pick(1, null), eps[1]);
    assert.equal(b.available(1_001), 2, 'back after the ejection time');
    b.onFailure(eps[0], 1_002);
    b.onFailure(eps[0], 1_002);
    assert.equal(b.onFailure(eps[0], 1_002), 2_000, 'second ejection lasts twice as long');
    assert.equal(b.available(2_000), 1);
    assert.equal(b.available(3_003), 2);
  });

  it('a success resets the failure count', () => {
    const b = new P2CBalancer(new OutlierDetector({ consecutiveFailures: 2, baseEjectionMs: 1_000, maxEjectionPercent: 100 }));
    const eps = endpoints(2);
    b.setEndpoints(eps);
    b.onFailure(eps[0], 0);
    b.onSuccess(eps[0], 1, 0);
    assert.equal(b.onFailure(eps[0], 0), 0);
    assert.equal(b.onFailure(eps[0], 0), 1_000);
  });

  it('never ejects more than maxEjectionPercent, but at least one', () => {
    const b = new P2CBalancer(new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionPercent: 50 }));
    const eps = endpoints(4);
    b.setEndpoints(eps);
    assert.equal(b.onFailure(eps[0], 0), 1_000);
    assert.equal(b.onFailure(eps[1], 0), 1_000);
    assert.equal(b.onFailure(eps[2], 0), 0, 'a third of four would be 75%');
    assert.equal(b.available(0), 2);

    const single = new P2CBalancer(new OutlierDetector({ consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionPercent: 10 }));
    const [only] = endpoints(1);
    single.setEndpoints([only]);
    assert.equal(single.onFailure(only, 0), 1_000, 'the only endpoint can be ejected (the region is then left for the next)');
    assert.equal(single.pick(1, null), null);
  });
});
