// TrafficRoute: shapes the requests of one service. Rules are tried in order;
// the first whose match fits sends the request to one of its weighted
// backends (canaries, blue/green, header-based routing).
import { z } from 'zod/v4';
import { dnsLabel, integerInRange, lengthMessage, refinement, resourceSchema } from './common';

// An RFC 9110 token, the characters a header name may contain.
const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const METHOD_PATTERN = /^[A-Z]+$/;

// Every bound of a TrafficRoute, in one place. The edge tries every rule's
// match on every request: the lists stay short.
export const TRAFFIC_ROUTE_BOUNDS = {
  maxRules: 100,
  maxMethods: 16,
  maxMethodLength: 32,
  maxHeaders: 16,
  maxHeaderNameLength: 256,
  // exact, prefix or regex of a header match.
  maxHeaderValueLength: 1024,
  maxPathLength: 1024,
  maxBackends: 16,
  // Weights are relative among a rule's backends.
  maxWeight: 100_000,
} as const;

const headerValue = z.string().max(TRAFFIC_ROUTE_BOUNDS.maxHeaderValueLength, `must be at most ${TRAFFIC_ROUTE_BOUNDS.maxHeaderValueLength} characters`);

export const headerMatchSchema = z
  .object({
    // Header names are case-insensitive; stored in lower case as Node presents them.
    // A bad name stops the checks of its header: one message for it, not a cascade.
    name: z
      .string()
      .max(TRAFFIC_ROUTE_BOUNDS.maxHeaderNameLength, { error: `must be at most ${TRAFFIC_ROUTE_BOUNDS.maxHeaderNameLength} characters`, abort: true })
      .regex(HEADER_NAME_PATTERN, { error: 'must be an HTTP header name such as x-canary', abort: true })
      .transform((name) => name.toLowerCase()),
    exact: headerValue.optional(),
    prefix: headerValue.optional(),
    regex: headerValue.optional(),
  })
  .strict()
  .check(
    refinement((header, ctx) => {
      const given = (['exact', 'prefix', 'regex'] as const).filter((field) => header[field] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            given.length === 0
              ? 'needs exactly one of exact, prefix or regex'
              : `needs exactly one of exact, prefix or regex, got ${given.join(' and ')}`,
        });
      }
      // A regex too long was refused already; not compiled.
      if (header.regex !== undefined && header.regex.length <= TRAFFIC_ROUTE_BOUNDS.maxHeaderValueLength) {
        try {
          new RegExp(header.regex);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            path: ['regex'],
            message: `is not a valid regular expression: ${(err as Error).message}`,
          });
        }
      }
    }),
  );

export const routeMatchSchema = z
  .object({
    pathPrefix: z
      .string()
      .startsWith('/', "must start with '/'")
      .max(TRAFFIC_ROUTE_BOUNDS.maxPathLength, `must be at most ${TRAFFIC_ROUTE_BOUNDS.maxPathLength} characters`)
      .optional(),
    methods: z
      .array(
        z
          .string()
          .max(TRAFFIC_ROUTE_BOUNDS.maxMethodLength, { error: `must be at most ${TRAFFIC_ROUTE_BOUNDS.maxMethodLength} characters`, abort: true })
          .regex(METHOD_PATTERN, 'must be an HTTP method in upper case, such as GET'),
      )
      .max(TRAFFIC_ROUTE_BOUNDS.maxMethods, lengthMessage(`must list at most ${TRAFFIC_ROUTE_BOUNDS.maxMethods} methods`))
      .optional(),
    headers: z
      .array(headerMatchSchema)
      .max(TRAFFIC_ROUTE_BOUNDS.maxHeaders, lengthMessage(`must list at most ${TRAFFIC_ROUTE_BOUNDS.maxHeaders} headers`))
      .optional(),
  })
  .strict();

export const weightedBackendSchema = z
  .object({
    service: dnsLabel,
    weight: integerInRange(0, TRAFFIC_ROUTE_BOUNDS.maxWeight),
  })
  .strict();

export const trafficRouteRuleSchema = z
  .object({
    // No match means the rule matches every request.
    match: routeMatchSchema.prefault({}),
    stripPrefix: z.boolean().default(false),
    split: z
      .array(weightedBackendSchema)
      .min(1, lengthMessage('needs at least one backend'))
      .max(TRAFFIC_ROUTE_BOUNDS.maxBackends, lengthMessage(`must list at most ${TRAFFIC_ROUTE_BOUNDS.maxBackends} backends`))
      .check(
        refinement((split, ctx) => {
          if (split.length > 0 && !split.some((backend) => backend.weight > 0)) {
            ctx.addIssue({ code: 'custom', message: 'needs at least one backend with a weight greater than 0' });
          }
        }),
      ),
  })
  .strict();

export const trafficRouteSpecSchema = z
  .object({
    service: dnsLabel,
    rules: z
      .array(trafficRouteRuleSchema)
      .min(1, lengthMessage('needs at least one rule'))
      .max(TRAFFIC_ROUTE_BOUNDS.maxRules, lengthMessage(`must list at most ${TRAFFIC_ROUTE_BOUNDS.maxRules} rules`)),
  })
  .strict();

export const trafficRouteSchema = resourceSchema('TrafficRoute', trafficRouteSpecSchema);

export type HeaderMatchSpec = z.infer<typeof headerMatchSchema>;
export type RouteMatchSpec = z.infer<typeof routeMatchSchema>;
export type WeightedBackendSpec = z.infer<typeof weightedBackendSchema>;
export type TrafficRouteRuleSpec = z.infer<typeof trafficRouteRuleSchema>;
export type TrafficRouteSpec = z.infer<typeof trafficRouteSpecSchema>;
export type TrafficRouteResource = z.infer<typeof trafficRouteSchema>;
