// ResiliencePolicy: how the edge retries, times out, breaks circuits and
// ejects outliers for one service or, with service "*", for all of them.
// Every section and field has a default, so the stored policy is complete.
import { z } from 'zod/v4';
import { duration, integerAtLeast, integerInRange, nameOrWildcard, resourceSchema } from './common';
import { notOneOf } from '../issue-messages';

export const RETRY_CONDITIONS = ['connect-failure', 'reset', '502', '503'] as const;
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
    attempts: integerInRange(0, 10).default(2),
    budgetPercent: integerInRange(0, 100).default(20),
    // No default: without it the request timeout bounds every try.
    perTryTimeout: duration.optional(),
    on: z.array(retryCondition).prefault([...RETRY_CONDITIONS]),
  })
  .strict();

export const timeoutsSchema = z
  .object({
    request: duration.default('30s'),
    connect: duration.default('2s'),
    idle: duration.default('60s'),
  })
  .strict();

export const circuitBreakerSchema = z
  .object({
    maxRequests: integerAtLeast(1).default(1024),
    consecutiveFailures: integerAtLeast(1).default(20),
    openFor: duration.default('10s'),
  })
  .strict();

export const outlierDetectionSchema = z
  .object({
    consecutiveFailures: integerAtLeast(1).default(5),
    baseEjectionTime: duration.default('10s'),
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
