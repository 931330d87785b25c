// FailoverPolicy: replaces the default "nearest healthy region" order for one
// service (or "*") with an explicit order per edge region.
import { z } from 'zod/v4';
import { dnsLabel, lengthMessage, nameOrWildcard, resourceSchema } from './common';

// Every bound of a FailoverPolicy, in one place.
export const FAILOVER_POLICY_BOUNDS = {
  maxRules: 100,
  maxRegionsPerRule: 64,
} as const;

export const failoverRuleSchema = z
  .object({
    from: nameOrWildcard('region'),
    regions: z
      .array(dnsLabel)
      .min(1, lengthMessage('needs at least one region'))
      .max(FAILOVER_POLICY_BOUNDS.maxRegionsPerRule, lengthMessage(`must list at most ${FAILOVER_POLICY_BOUNDS.maxRegionsPerRule} regions`))
      .superRefine((regions, ctx) => {
        const seen = new Map<string, number>();
        regions.forEach((region, i) => {
          const first = seen.get(region);
          if (first !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `repeats region '${region}' (already at regions[${first}])`,
            });
          } else {
            seen.set(region, i);
          }
        });
      }),
  })
  .strict();

export const failoverPolicySpecSchema = z
  .object({
    service: nameOrWildcard('service'),
    rules: z
      .array(failoverRuleSchema)
      .min(1, lengthMessage('needs at least one rule'))
      .max(FAILOVER_POLICY_BOUNDS.maxRules, lengthMessage(`must list at most ${FAILOVER_POLICY_BOUNDS.maxRules} rules`)),
  })
  .strict();

export const failoverPolicySchema = resourceSchema('FailoverPolicy', failoverPolicySpecSchema);

export type FailoverRuleSpec = z.infer<typeof failoverRuleSchema>;
export type FailoverPolicySpec = z.infer<typeof failoverPolicySpecSchema>;
export type FailoverPolicyResource = z.infer<typeof failoverPolicySchema>;
