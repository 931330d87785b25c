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
    assertRefused(policy({ service: 'echo', circuitBreaker: { maxRequests: 0 } }), 'spec.circuitBreaker.maxRequests', 'must be an integer of at least 1');
    assertRefused(policy({ service: 'echo', outlierDetection: { maxEjectionPercent: 150 } }), 'spec.outlierDetection.maxEjectionPercent', 'must be an integer from 0 to 100');
    assertRefused(policy({ service: 'echo', retry: {} }), 'spec.retry', "unknown field 'retry'");
  });
});
