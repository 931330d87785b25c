// Service: one global name (<name>.mesh), its public hosts, ports, path
// routes, health check and per-region limits. Every field has a default, so
// `spec: {}` is a complete service.
import { z } from 'zod/v4';
import { dnsLabel, duration, hostname, integerAtLeast, integerInRange, lengthMessage, port, refinement, resourceSchema } from './common';
import { parseDuration } from '../duration';

export const PROTOCOLS = ['http', 'http2', 'grpc', 'tcp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const servicePortSchema = z
  .object({
    name: dnsLabel,
    port,
    protocol: z.enum(PROTOCOLS).default('http'),
  })
  .strict();

const pathPrefix = z.string().startsWith('/', "must start with '/'");

export const servicePathRouteSchema = z
  .object({
    pathPrefix,
    stripPrefix: z.boolean().default(false),
  })
  .strict();

export interface HttpHealthCheckSpec {
  type: 'http';
  path: string;
  expectedStatus: number;
  interval: string;
  timeout: string;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface TcpHealthCheckSpec {
  type: 'tcp';
  interval: string;
  timeout: string;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export type HealthCheckSpec = HttpHealthCheckSpec | TcpHealthCheckSpec;

// One object for both types, so a tcp check that sets `path` gets a message
// that says why, and the output is a union narrowed by `type`.
export const healthCheckSchema = z
  .object({
    type: z.enum(['http', 'tcp']).default('http'),
    path: pathPrefix.optional(),
    expectedStatus: integerInRange(100, 599).optional(),
    interval: duration.default('1s'),
    timeout: duration.default('500ms'),
    healthyThreshold: integerAtLeast(1).default(1),
    unhealthyThreshold: integerAtLeast(1).default(2),
  })
  .strict()
  .check(
    refinement((check, ctx) => {
      if (check.type === 'tcp') {
        for (const field of ['path', 'expectedStatus'] as const) {
          // A field that failed its own check is given too, though zod v4 leaves it out of `check`.
          if (check[field] !== undefined || ctx.issues.some((issue) => issue.path?.[0] === field)) {
            ctx.addIssue({ code: 'custom', path: [field], message: 'applies only to http health checks (type is tcp)' });
          }
        }
      }
      if (isDurationPair(check.timeout, check.interval) && parseDuration(check.timeout) > parseDuration(check.interval)) {
        ctx.addIssue({
          code: 'custom',
          path: ['timeout'],
          message: `must not be more than interval (${check.interval}), got ${check.timeout}`,
        });
      }
    }),
  )
  .transform((check): HealthCheckSpec => {
    const common = {
      interval: check.interval,
      timeout: check.timeout,
      healthyThreshold: check.healthyThreshold,
      unhealthyThreshold: check.unhealthyThreshold,
    };
    if (check.type === 'tcp') return { type: 'tcp', ...common };
    return { type: 'http', path: check.path ?? '/healthz', expectedStatus: check.expectedStatus ?? 200, ...common };
  });

// The refinement also runs when a duration failed its own check; compare only valid ones.
function isDurationPair(a: string, b: string): boolean {
  try {
    parseDuration(a);
    parseDuration(b);
    return true;
  } catch {
    return false;
  }
}

export const serviceLimitsSchema = z
  .object({
    softInFlightPerRegion: integerAtLeast(1).default(1000),
    maxRequestBodyBytes: integerAtLeast(0).default(10 * 1024 * 1024),
    requestTimeout: duration.default('30s'),
  })
  .strict();

export const serviceSpecSchema = z
  .object({
    hosts: z.array(hostname).prefault([]),
    ports: z
      .array(servicePortSchema)
      .min(1, lengthMessage('needs at least one port'))
      .prefault([{ name: 'http', port: 80, protocol: 'http' }]),
    routes: z
      .array(servicePathRouteSchema)
      .min(1, lengthMessage('needs at least one route'))
      .prefault([{ pathPrefix: '/', stripPrefix: false }]),
    healthCheck: healthCheckSchema.prefault({}),
    limits: serviceLimitsSchema.prefault({}),
  })
  .strict();

export const serviceSchema = resourceSchema('Service', serviceSpecSchema);

export type ServicePortSpec = z.infer<typeof servicePortSchema>;
export type ServicePathRouteSpec = z.infer<typeof servicePathRouteSchema>;
export type ServiceLimitsSpec = z.infer<typeof serviceLimitsSchema>;
export type ServiceSpec = z.infer<typeof serviceSpecSchema>;
export type ServiceResource = z.infer<typeof serviceSchema>;
