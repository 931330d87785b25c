// Service: one global name (<name>.mesh), its public hosts, ports, path
// routes, health check and per-region limits. Every field has a default, so
// `spec: {}` is a complete service.
import { z } from 'zod/v4';
import { dnsLabel, durationInRange, hostname, integerInRange, lengthMessage, port, refinement, resourceSchema } from './common';
import { parseDuration } from '../duration';

// Every bound of a Service, in one place. A bound on a duration is written
// as a duration. Timeouts stay well under Node's 2^31-1 ms timer limit; a
// health check more often than every 100 ms only burns the zone's CPU.
export const SERVICE_BOUNDS = {
  maxHosts: 100,
  maxPorts: 32,
  maxRoutes: 100,
  // A path prefix, of a route or of the health check.
  maxPathLength: 1024,
  healthCheckInterval: { min: '100ms', max: '1h' },
  healthCheckTimeout: { min: '1ms', max: '1h' },
  maxHealthThreshold: 100,
  maxSoftInFlightPerRegion: 1_000_000,
  // Bodies over 64 KiB are streamed, not held; 16 GiB.
  maxRequestBodyBytes: 16 * 1024 ** 3,
  requestTimeout: { min: '1ms', max: '24h' },
} as const;

export const PROTOCOLS = ['http', 'http2', 'grpc', 'tcp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

// A tcp port is served to the region's workloads on the mesh listener; with
// `public: true` also on every edge's public TCP address (an HTTP service is
// public through its hosts instead).
export const servicePortSchema = z
  .object({
    name: dnsLabel,
    port,
    protocol: z.enum(PROTOCOLS).default('http'),
    public: z.boolean().optional(),
  })
  .strict()
  .check(
    refinement((p, ctx) => {
      if (p.public !== undefined && p.protocol !== 'tcp') {
        ctx.addIssue({ code: 'custom', path: ['public'], message: `applies only to tcp ports (protocol is ${p.protocol}): an HTTP service is public through spec.hosts` });
      }
    }),
  );

const pathPrefix = z
  .string()
  .startsWith('/', "must start with '/'")
  .max(SERVICE_BOUNDS.maxPathLength, `must be at most ${SERVICE_BOUNDS.maxPathLength} characters`);

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
    interval: durationInRange(SERVICE_BOUNDS.healthCheckInterval).default('1s'),
    timeout: durationInRange(SERVICE_BOUNDS.healthCheckTimeout).default('500ms'),
    healthyThreshold: integerInRange(1, SERVICE_BOUNDS.maxHealthThreshold).default(1),
    unhealthyThreshold: integerInRange(1, SERVICE_BOUNDS.maxHealthThreshold).default(2),
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
      // Compared only when both are valid durations within their bounds.
      const durationsOk = !ctx.issues.some((issue) => issue.path?.[0] === 'interval' || issue.path?.[0] === 'timeout');
      if (durationsOk && parseDuration(check.timeout) > parseDuration(check.interval)) {
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

export const serviceLimitsSchema = z
  .object({
    softInFlightPerRegion: integerInRange(1, SERVICE_BOUNDS.maxSoftInFlightPerRegion).default(1000),
    maxRequestBodyBytes: integerInRange(0, SERVICE_BOUNDS.maxRequestBodyBytes).default(10 * 1024 * 1024),
    requestTimeout: durationInRange(SERVICE_BOUNDS.requestTimeout).default('30s'),
  })
  .strict();

export const serviceSpecSchema = z
  .object({
    hosts: z
      .array(hostname)
      .max(SERVICE_BOUNDS.maxHosts, lengthMessage(`must list at most ${SERVICE_BOUNDS.maxHosts} hosts`))
      .prefault([]),
    ports: z
      .array(servicePortSchema)
      .min(1, lengthMessage('needs at least one port'))
      .max(SERVICE_BOUNDS.maxPorts, lengthMessage(`must list at most ${SERVICE_BOUNDS.maxPorts} ports`))
      .prefault([{ name: 'http', port: 80, protocol: 'http' }]),
    routes: z
      .array(servicePathRouteSchema)
      .min(1, lengthMessage('needs at least one route'))
      .max(SERVICE_BOUNDS.maxRoutes, lengthMessage(`must list at most ${SERVICE_BOUNDS.maxRoutes} routes`))
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
