// TrafficPermission: which mesh identities (SPIFFE IDs from the callers'
// certificates) may call a service through a zone ingress.
import { z } from 'zod/v4';
import { lengthMessage, nameOrWildcard, resourceSchema } from './common';

// spiffe://<trust-domain>/<segment>/...; "*" stands for one whole segment.
const SPIFFE_PATTERN = /^spiffe:\/\/[^/\s]+(\/[^/\s]+)*$/;
const IDENTITY_EXAMPLE = 'spiffe://meridian.local/region/*/edge/*';

// Every bound of a TrafficPermission, in one place. A zone ingress matches
// every caller against the allow list.
export const TRAFFIC_PERMISSION_BOUNDS = {
  maxAllow: 256,
  // The SPIFFE standard's limit on an ID.
  maxIdentityLength: 2048,
} as const;

export const identityPattern = z.string().superRefine((identity, ctx) => {
  if (identity.length > TRAFFIC_PERMISSION_BOUNDS.maxIdentityLength) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${TRAFFIC_PERMISSION_BOUNDS.maxIdentityLength} characters, got ${identity.length}` });
    return;
  }
  if (!SPIFFE_PATTERN.test(identity)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a SPIFFE ID such as ${IDENTITY_EXAMPLE}, got ${JSON.stringify(identity)}`,
    });
    return;
  }
  const segments = identity.slice('spiffe://'.length).split('/');
  if (segments.some((segment) => segment.includes('*') && segment !== '*')) {
    ctx.addIssue({
      code: 'custom',
      message: `"*" must stand alone as a whole path segment (e.g. ${IDENTITY_EXAMPLE}), got ${JSON.stringify(identity)}`,
    });
  }
});

export const permissionRuleSchema = z
  .object({
    identity: identityPattern,
  })
  .strict();

export const trafficPermissionSpecSchema = z
  .object({
    service: nameOrWildcard('service'),
    allow: z
      .array(permissionRuleSchema)
      .min(1, lengthMessage('needs at least one identity to allow'))
      .max(TRAFFIC_PERMISSION_BOUNDS.maxAllow, lengthMessage(`must list at most ${TRAFFIC_PERMISSION_BOUNDS.maxAllow} identities`)),
  })
  .strict();

export const trafficPermissionSchema = resourceSchema('TrafficPermission', trafficPermissionSpecSchema);

export type PermissionRuleSpec = z.infer<typeof permissionRuleSchema>;
export type TrafficPermissionSpec = z.infer<typeof trafficPermissionSpecSchema>;
export type TrafficPermissionResource = z.infer<typeof trafficPermissionSchema>;
