// Building blocks shared by the kind schemas: the document envelope, metadata,
// names, durations, addresses and numbers. Every check carries a message a
// person can act on; the few messages zod makes up itself (missing fields,
// wrong types, unknown fields) are rewritten in ../issue-messages.ts.
// A default that is an object or a list is a prefault: zod parses it like a
// given value (its own defaults filled in, a fresh copy for each document),
// where zod v4's default() would hand out the one value as it is.
import { isIP } from 'node:net';
import { z } from 'zod/v4';
import { isDuration, parseDuration } from '../duration';
import type { KindName } from '../kinds';

export const API_VERSION = 'meridian.dev/v1';

const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_MESSAGE = "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit";

function isDnsLabel(s: string): boolean {
  return s.length <= 63 && DNS_LABEL_PATTERN.test(s);
}

function checkDnsLabel(s: string, ctx: z.RefinementCtx<string>): void {
  if (s.length > 63) {
    ctx.addIssue({ code: 'custom', message: `must be at most 63 characters (is ${s.length})` });
  } else if (!DNS_LABEL_PATTERN.test(s)) {
    ctx.addIssue({ code: 'custom', message: `${DNS_LABEL_MESSAGE}, got ${JSON.stringify(s)}` });
  }
}

// A resource name, or a reference to one (a service, a region).
export const dnsLabel = z.string().superRefine(checkDnsLabel);

// A reference to one named resource or "*" for all of them.
export function nameOrWildcard(what: string) {
  return z.string().superRefine((s, ctx) => {
    if (s !== '*' && !isDnsLabel(s)) {
      ctx.addIssue({ code: 'custom', message: `must be a ${what} name (a DNS label) or "*", got ${JSON.stringify(s)}` });
    }
  });
}

// A public host name such as echo.example.com, lower case, no port, no wildcard.
const HOSTNAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
export const MAX_HOSTNAME_LENGTH = 253;
export const hostname = z.string().superRefine((s, ctx) => {
  if (s.length > MAX_HOSTNAME_LENGTH) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_HOSTNAME_LENGTH} characters, got ${s.length}` });
  } else if (!HOSTNAME_PATTERN.test(s)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a host name in lower case such as echo.example.com (no port, no wildcard), got ${JSON.stringify(s)}`,
    });
  }
});

const DURATION_FORMAT_MESSAGE = 'must be a duration: a number followed by ms, s, m or h (e.g. 250ms, 5s, 1m, 2h)';

// Node fires a timer of more than 2^31-1 ms at once (TimeoutOverflowWarning):
// no duration a resource carries may be longer.
export const MAX_TIMER_MS = 2 ** 31 - 1;

// The range one duration field takes, written as durations ("1ms", "24h").
export interface DurationBound {
  min: string;
  max: string;
}

// A duration from min to max, both written as durations so the message shows
// them as the author would: "must be at most 24h, got 600h".
export function durationInRange({ min, max }: DurationBound) {
  const minMs = parseDuration(min);
  const maxMs = parseDuration(max);
  if (maxMs > MAX_TIMER_MS || minMs > maxMs) throw new Error(`duration bound ${min}..${max} is not within 0..${MAX_TIMER_MS} ms`);
  return z.string().superRefine((s, ctx) => {
    if (!isDuration(s)) {
      ctx.addIssue({ code: 'custom', message: `${DURATION_FORMAT_MESSAGE}, got ${JSON.stringify(s)}` });
      return;
    }
    const ms = parseDuration(s);
    if (ms < minMs) ctx.addIssue({ code: 'custom', message: `must be at least ${min}, got ${s}` });
    else if (ms > maxMs) ctx.addIssue({ code: 'custom', message: `must be at most ${max}, got ${s}` });
  });
}

// An IPv4 or IPv6 literal; host names are not addresses.
export const ipAddress = z.string().superRefine((s, ctx) => {
  if (isIP(s) === 0) {
    ctx.addIssue({ code: 'custom', message: `must be an IPv4 or IPv6 address, got ${JSON.stringify(s)}` });
  }
});

// A number that `ok` takes, with one message. zod v4 refuses an infinite
// number (YAML's .inf) before any refinement; it gets the same message as
// any other number `ok` refuses. NaN stays "must be a number, got NaN".
function checkedNumber(message: string, ok: (n: number) => boolean) {
  return z
    .number({ error: (issue) => (typeof issue.input === 'number' && !Number.isNaN(issue.input) ? message : undefined) })
    .refine(ok, message);
}

// One message for every way an integer can be wrong (fraction, too small, too large).
export function integerInRange(min: number, max: number) {
  return checkedNumber(`must be an integer from ${min} to ${max}`, (n) => Number.isInteger(n) && n >= min && n <= max);
}

export function integerAtLeast(min: number) {
  return checkedNumber(`must be an integer of at least ${min}`, (n) => Number.isSafeInteger(n) && n >= min);
}

export function numberInRange(min: number, max: number) {
  return checkedNumber(`must be a number from ${min} to ${max}`, (n) => n >= min && n <= max);
}

export const port = integerInRange(1, 65535);

// The params of a length check (min) that measures only a value of the
// right type: zod v4 on its own also measures "" where a list belongs (or []
// where a string does) and adds a second message to "must be a list".
export function lengthMessage(message: string) {
  return { error: message, when: (payload: z.core.ParsePayload) => payload.issues.every((issue) => issue.continue === true) };
}

// A refinement of an object, or of a list of objects, that runs also after an
// unknown field (zod v4 on its own stops there), but not after a field that
// failed to parse, so one answer names every problem.
export function refinement<T>(check: (value: T, ctx: z.RefinementCtx<T>) => void): z.core.$ZodCheck<T> {
  const refine = z.superRefine(check);
  refine._zod.def.when = (payload) => payload.issues.every((issue) => issue.continue === true || issue.code === 'unrecognized_keys');
  return refine;
}

// Labels (metadata.labels, Instance spec.labels) travel with every copy of a
// resource, to every zone and edge: few and short.
export const LABEL_BOUNDS = {
  maxCount: 64,
  maxKeyLength: 128,
  maxValueLength: 256,
  // Keys and values together, in UTF-8.
  maxTotalBytes: 8192,
} as const;

// A key too long to repeat in a path is shown by its start.
function keyPreview(key: string): string {
  return JSON.stringify(key.length > 32 ? `${key.slice(0, 32)}...` : key);
}

export const labels = z.record(z.string(), z.string()).check(
  refinement((record, ctx) => {
    const entries = Object.entries(record);
    if (entries.length > LABEL_BOUNDS.maxCount) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${LABEL_BOUNDS.maxCount} labels, got ${entries.length}` });
      return;
    }
    let bytes = 0;
    for (const [key, value] of entries) {
      bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
      if (key.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'a label key must not be empty' });
      } else if (key.length > LABEL_BOUNDS.maxKeyLength) {
        ctx.addIssue({
          code: 'custom',
          message: `a label key must be at most ${LABEL_BOUNDS.maxKeyLength} characters, got ${key.length} (${keyPreview(key)})`,
        });
      } else if (value.length > LABEL_BOUNDS.maxValueLength) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must be at most ${LABEL_BOUNDS.maxValueLength} characters, got ${value.length}` });
      }
    }
    if (bytes > LABEL_BOUNDS.maxTotalBytes) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${LABEL_BOUNDS.maxTotalBytes} bytes in all (keys and values, UTF-8), got ${bytes}` });
    }
  }),
);

// The store's revision is a 64-bit integer: at most 19 digits.
export const MAX_RESOURCE_VERSION_DIGITS = 19;

export const metadataSchema = z
  .object({
    name: dnsLabel,
    labels: labels.optional(),
    // Set by the admin API (the etcd mod revision); sent back for optimistic concurrency.
    resourceVersion: z
      .string()
      .regex(/^[0-9]+$/, 'must be a string of digits (quote it in YAML: resourceVersion: "42")')
      .max(MAX_RESOURCE_VERSION_DIGITS, `must be at most ${MAX_RESOURCE_VERSION_DIGITS} digits`)
      .optional(),
  })
  .strict();

// The envelope every kind shares. `status` is written by the server (Region
// items carry one when read back); it is accepted so a document read from the
// API can be applied again, and dropped because it is not configuration.
export function resourceSchema<K extends KindName, S extends z.ZodType>(kind: K, spec: S) {
  return z
    .object({
      apiVersion: z.literal(API_VERSION),
      kind: z.literal(kind),
      metadata: metadataSchema,
      spec,
      status: z.unknown().optional(),
    })
    .strict()
    .transform(({ status: _status, ...document }) => document);
}

export type ResourceMetadata = z.infer<typeof metadataSchema>;
