import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, resource } from '../validation-assertions';

const policy = (spec: unknown) => resource('ResiliencePolicy', spec, 'echo');

describe('ResiliencePolicy', () => {
  it('fills every default', () => {
    assert.deepEqual(accept(policy({ service: 'echo' })).spec, {
      service: 'echo',
      retries: { attempts: 2, budgetPercent: 20, on: ['connect-failure', 'reset', '502', '503'] },
      timeouts: { request: '30s', connect: '2s', idle: '60s' },
      circuitBreaker: { maxRequests: 1024, consecutiveFailures: 20, openFor: '10s' },
      outlierDetection: { consecutiveFailures: 5, baseEjectionTime: '10s', maxEjectionPercent: 50 },
    });
  });

  it('keeps what is given, including a per-try timeout and "*" for every service', () => {
    const spec = accept(policy({ service: '*', retries: { attempts: 0, perTryTimeout: '5s', on: ['reset'] }, timeouts: { connect: '250ms' } })).spec;
    assert.equal(spec.service, '*');
    assert.deepEqual(spec.retries, { attempts: 0, budgetPercent: 20, perTryTimeout: '5s', on: ['reset'] });
    assert.deepEqual(spec.timeouts, { request: '30s', connect: '250ms', idle: '60s' });
  });

  it('reads unquoted status codes in retries.on as strings', () => {
    assert.deepEqual(accept(policy({ service: 'echo', retries: { on: [502, 503] } })).spec.retries.on, ['502', '503']);
  });

  it('checks each field', () => {
    assertRefused(policy({}), 'spec.service', 'required');
    assertRefused(policy({ service: 'Echo' }), 'spec.service', 'must be a service name (a DNS label) or "*", got "Echo"');
    assertRefused(policy({ service: 'echo', retries: { attempts: 11 } }), 'spec.retries.attempts', 'must be an integer from 0 to 10');
    assertRefused(policy({ service: 'echo', retries: { budgetPercent: 101 } }), 'spec.retries.budgetPercent', 'must be an integer from 0 to 100');
    assertRefused(policy({ service: 'echo', retries: { on: ['504'] } }), 'spec.retries.on[0]', 'must be one of "connect-failure", "reset", "502", "503", got "504"');
    assertRefused(policy({ service: 'echo', retries: { perTryTimeout: '5' } }), 'spec.retries.perTryTimeout', /^must be a duration/);
    assertRefused(policy({ service: 'echo', timeouts: { idle: '1 m' } }), 'spec.timeouts.idle', /^must be a duration/);
    assertRefused(policy({ service: 'echo', circuitBreaker: { maxRequests: 0 } }), 'spec.circuitBreaker.maxRequests', 'must be an integer from 1 to 1000000');
    assertRefused(policy({ service: 'echo', outlierDetection: { maxEjectionPercent: 150 } }), 'spec.outlierDetection.maxEjectionPercent', 'must be an integer from 0 to 100');
    assertRefused(policy({ service: 'echo', retry: {} }), 'spec.retry', "unknown field 'retry'");
  });

  it('bounds every timeout: 1ms to 24h, connect to 5m', () => {
    accept(policy({ service: 'echo', retries: { perTryTimeout: '24h' }, timeouts: { request: '24h', connect: '5m', idle: '24h' } }));
    accept(policy({ service: 'echo', retries: { perTryTimeout: '1ms' }, timeouts: { request: '1ms', connect: '1ms', idle: '1ms' } }));
    assertRefused(policy({ service: 'echo', timeouts: { request: '600h' } }), 'spec.timeouts.request', 'must be at most 24h, got 600h');
    assertRefused(policy({ service: 'echo', timeouts: { request: '0ms' } }), 'spec.timeouts.request', 'must be at least 1ms, got 0ms');
    assertRefused(policy({ service: 'echo', retries: { perTryTimeout: '25h' } }), 'spec.retries.perTryTimeout', 'must be at most 24h, got 25h');
    assertRefused(policy({ service: 'echo', retries: { perTryTimeout: '0s' } }), 'spec.retries.perTryTimeout', 'must be at least 1ms, got 0s');
    assertRefused(policy({ service: 'echo', timeouts: { connect: '301s' } }), 'spec.timeouts.connect', 'must be at most 5m, got 301s');
    assertRefused(policy({ service: 'echo', timeouts: { idle: '24.5h' } }), 'spec.timeouts.idle', 'must be at most 24h, got 24.5h');
    assertRefused(policy({ service: 'echo', timeouts: { idle: '0ms' } }), 'spec.timeouts.idle', 'must be at least 1ms, got 0ms');
  });

  it('bounds the breaker and ejection times: 100ms to 1h', () => {
    accept(policy({ service: 'echo', circuitBreaker: { openFor: '100ms' }, outlierDetection: { baseEjectionTime: '1h' } }));
    accept(policy({ service: 'echo', circuitBreaker: { openFor: '1h' }, outlierDetection: { baseEjectionTime: '100ms' } }));
    assertRefused(policy({ service: 'echo', circuitBreaker: { openFor: '99ms' } }), 'spec.circuitBreaker.openFor', 'must be at least 100ms, got 99ms');
    assertRefused(policy({ service: 'echo', circuitBreaker: { openFor: '2h' } }), 'spec.circuitBreaker.openFor', 'must be at most 1h, got 2h');
    assertRefused(policy({ service: 'echo', outlierDetection: { baseEjectionTime: '0s' } }), 'spec.outlierDetection.baseEjectionTime', 'must be at least 100ms, got 0s');
    assertRefused(policy({ service: 'echo', outlierDetection: { baseEjectionTime: '61m' } }), 'spec.outlierDetection.baseEjectionTime', 'must be at most 1h, got 61m');
  });

  it('bounds the counts: requests and failures at 1000000, retry conditions at 4', () => {
    accept(policy({ service: 'echo', circuitBreaker: { maxRequests: 1_000_000, consecutiveFailures: 1_000_000 }, outlierDetection: { consecutiveFailures: 1_000_000 } }));
    assertRefused(policy({ service: 'echo', circuitBreaker: { maxRequests: 1_000_001 } }), 'spec.circuitBreaker.maxRequests', 'must be an integer from 1 to 1000000');
    assertRefused(policy({ service: 'echo', circuitBreaker: { consecutiveFailures: 1_000_001 } }), 'spec.circuitBreaker.consecutiveFailures', 'must be an integer from 1 to 1000000');
    assertRefused(policy({ service: 'echo', outlierDetection: { consecutiveFailures: 1_000_001 } }), 'spec.outlierDetection.consecutiveFailures', 'must be an integer from 1 to 1000000');
    accept(policy({ service: 'echo', retries: { attempts: 10, on: ['reset', '502', '503', 'connect-failure'] } }));
    assertRefused(policy({ service: 'echo', retries: { on: ['reset', 'reset', 'reset', 'reset', 'reset'] } }), 'spec.retries.on', 'must list at most 4 conditions (each once)');
  });
});
