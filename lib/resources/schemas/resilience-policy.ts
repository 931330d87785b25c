// ResiliencePolicy: how the edge retries, times out, breaks circuits and
// ejects outliers for one service or, with service "*", for all of them.
// Every section and field has a default, so the stored policy is complete.
import { z } from 'zod/v4';
import { durationInRange, integerInRange, lengthMessage, nameOrWildcard, resourceSchema } from './common';
import { notOneOf } from '../issue-messages';

export const RETRY_CONDITIONS = ['connect-failure', 'reset', '502', '503'] as const;

// Every bound of a ResiliencePolicy, in one place. A bound on a duration is
// written as a duration; none comes near Node's 2^31-1 ms timer limit.
export const RESILIENCE_POLICY_BOUNDS = {
  maxRetryAttempts: 10,
  // Each condition once.
  maxRetryConditions: RETRY_CONDITIONS.length,
  perTryTimeout: { min: '1ms', max: '24h' },
  requestTimeout: { min: '1ms', max: '24h' },
  // The kernel gives up on a connect after about two minutes.
  connectTimeout: { min: '1ms', max: '5m' },
  idleTimeout: { min: '1ms', max: '24h' },
  maxConcurrentRequests: 1_000_000,
  maxConsecutiveFailures: 1_000_000,
  openFor: { min: '100ms', max: '1h' },
  // Doubles on every further ejection (up to 2^16 times), without a timer.
  baseEjectionTime: { min: '100ms', max: '1h' },
} as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

// YAML reads an unquoted 502 as a number; accept it as the status it names.
// zod v4 keeps an enum's values as object keys, which lists "502" and "503"
// first; the message lists them in this order.
const retryCondition = z.preprocess(
  (value) => (typeof value === 'number' ? String(value) : value),
  z.enum(RETRY_CONDITIONS, { error: (issue) => notOneOf(RETRY_CONDITIONS, issue.input) }),
);

export const retriesSchema = z
  .object({
    attempts: integerInRange(0, RESILIENCE_POLICY_BOUNDS.maxRetryAttempts).default(2),
    budgetPercent: integerInRange(0, 100).default(20),
    // No default: without it the request timeout bounds every try.
    perTryTimeout: durationInRange(RESILIENCE_POLICY_BOUNDS.perTryTimeout).optional(),
    on: z
      .array(retryCondition)
      .max(RESILIENCE_POLICY_BOUNDS.maxRetryConditions, lengthMessage(`must list at most ${RESILIENCE_POLICY_BOUNDS.maxRetryConditions} conditions (each once)`))
      .prefault([...RETRY_CONDITIONS]),
  })
  .strict();

export const timeoutsSchema = z
  .object({
    request: durationInRange(RESILIENCE_POLICY_BOUNDS.requestTimeout).default('30s'),
    connect: durationInRange(RESILIENCE_POLICY_BOUNDS.connectTimeout).default('2s'),
    idle: durationInRange(RESILIENCE_POLICY_BOUNDS.idleTimeout).default('60s'),
  })
  .strict();

export const circuitBreakerSchema = z
  .object({
    maxRequests: integerInRange(1, RESILIENCE_POLICY_BOUNDS.maxConcurrentRequests).default(1024),
    consecutiveFailures: integerInRange(1, RESILIENCE_POLICY_BOUNDS.maxConsecutiveFailures).default(20),
    openFor: durationInRange(RESILIENCE_POLICY_BOUNDS.openFor).default('10s'),
  })
  .strict();

export const outlierDetectionSchema = z
  .object({
    consecutiveFailures: integerInRange(1, RESILIENCE_POLICY_BOUNDS.maxConsecutiveFailures).default(5),
    baseEjectionTime: durationInRange(RESILIENCE_POLICY_BOUNDS.baseEjectionTime).default('10s'),
    maxEjectionPercent: integerInRange(0, 100).default(50),
  })
  .strict();

export const resiliencePolicySpecSchema = z
  .object({
    service: nameOrWildcard('service'),
    retries: retriesSchema.prefault({}),
    timeouts: timeoutsSchema.prefault({}),
    circuitBreaker: circuitBreakerSchema.prefault({}),
    outlierDetection: outlierDetectionSchema.prefault({}),
  })
  .strict();

export const resiliencePolicySchema = resourceSchema('ResiliencePolicy', resiliencePolicySpecSchema);

export type RetriesSpec = z.infer<typeof retriesSchema>;
export type TimeoutsSpec = z.infer<typeof timeoutsSchema>;
export type CircuitBreakerSpec = z.infer<typeof circuitBreakerSchema>;
export type OutlierDetectionSpec = z.infer<typeof outlierDetectionSchema>;
export type ResiliencePolicySpec = z.infer<typeof resiliencePolicySpecSchema>;
export type ResiliencePolicyResource = z.infer<typeof resiliencePolicySchema>;
