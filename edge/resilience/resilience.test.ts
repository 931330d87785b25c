import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from './circuit-breaker';
import { RetryBudget } from './retry-budget';
import { isIdempotent, isRetryable } from './retry-policy';

const ALL = { connectFailure: true, reset: true, status502: true, status503: true };

describe('retry policy', () => {
  it('knows the idempotent methods and the idempotency-key header', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) assert.ok(isIdempotent(m, false), m);
    assert.ok(!isIdempotent('POST', false));
    assert.ok(!isIdempotent('PATCH', false));
    assert.ok(isIdempotent('POST', true));
  });

  it('retries connect failures for any method, the rest only when idempotent', () => {
    assert.ok(isRetryable('connect-failure', ALL, false));
    assert.ok(!isRetryable('503', ALL, false));
    assert.ok(!isRetryable('reset', ALL, false));
    assert.ok(isRetryable('503', ALL, true));
    assert.ok(isRetryable('timeout', ALL, true));
    assert.ok(!isRetryable('504', ALL, true));
    assert.ok(!isRetryable('503', { ...ALL, status503: false }, true));
  });
});

describe('retry budget', () => {
  it('allows budgetPercent of requests plus a minimum over the window', () => {
    const budget = new RetryBudget(20, 10);
    for (let i = 0; i < 100; i++) budget.onRequest(500);
    let granted = 0;
    while (budget.tryRetry(600) && granted < 1000) granted++;
    assert.equal(granted, 30);
  });

  it('forgets requests and retries older than the window', () => {
    const budget = new RetryBudget(20, 0);
    for (let i = 0; i < 100; i++) budget.onRequest(0);
    for (let i = 0; i < 20; i++) assert.ok(budget.tryRetry(0));
    assert.ok(!budget.tryRetry(0));
    assert.ok(!budget.tryRetry(9_500), 'still inside the 10 s window');
    budget.onRequest(10_500);
    for (let i = 0; i < 5; i++) budget.onRequest(10_500);
    assert.ok(budget.tryRetry(10_500), 'old retries have left the window');
    assert.ok(!budget.tryRetry(10_500), '20% of 6 requests is one retry');
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, half-opens after openFor, closes on a successful probe', () => {
    const b = new CircuitBreaker({ maxRequests: 100, consecutiveFailures: 3, openForMs: 1_000 });
    b.onFailure(0);
    b.onFailure(0);
    assert.ok(b.canPass(0, 0));
    assert.ok(b.onFailure(0));
    assert.ok(!b.canPass(500, 0));
    assert.equal(b.describe(500), 'open');
    assert.ok(b.canPass(1_000, 0));
    b.onPass(1_000);
    assert.ok(!b.canPass(1_001, 0), 'one probe at a time');
    assert.ok(b.onFailure(1_002), 'a failed probe opens it again');
    assert.ok(!b.canPass(1_500, 0));
    assert.ok(b.canPass(2_100, 0));
    b.onPass(2_100);
    b.onSuccess();
    assert.ok(b.canPass(2_101, 0));
    assert.equal(b.describe(2_101), 'closed');
  });

  it('refuses above maxRequests in flight', () => {
    const b = new CircuitBreaker({ maxRequests: 2, consecutiveFailures: 3, openForMs: 1_000 });
    assert.ok(b.canPass(0, 1));
    assert.ok(!b.canPass(0, 2));
  });
});
