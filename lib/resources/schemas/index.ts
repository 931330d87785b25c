// Every kind's schema, and the map from kind name to schema that validation uses.
import type { z } from 'zod/v4';
import type { KindName } from '../kinds';
import { certificateSchema, type CertificateResource } from './certificate';
import { failoverPolicySchema, type FailoverPolicyResource } from './failover-policy';
import { instanceSchema, type InstanceResource } from './instance';
import { regionSchema, type RegionResource } from './region';
import { resiliencePolicySchema, type ResiliencePolicyResource } from './resilience-policy';
import { serviceSchema, type ServiceResource } from './service';
import { trafficPermissionSchema, type TrafficPermissionResource } from './traffic-permission';
import { trafficRouteSchema, type TrafficRouteResource } from './traffic-route';

export * from './common';
export * from './region';
export * from './service';
export * from './traffic-route';
export * from './resilience-policy';
export * from './failover-policy';
export * from './traffic-permission';
export * from './instance';
export * from './certificate';
export * from './bounds';

export type ResourceDocument =
  | RegionResource
  | ServiceResource
  | TrafficRouteResource
  | ResiliencePolicyResource
  | FailoverPolicyResource
  | TrafficPermissionResource
  | InstanceResource
  | CertificateResource;

// The validated document of one kind: ResourceOfKind<'Service'> is ServiceResource.
export type ResourceOfKind<K extends KindName> = Extract<ResourceDocument, { kind: K }>;

export const resourceSchemas: { [K in KindName]: z.ZodType<ResourceOfKind<K>, unknown> } = {
  Region: regionSchema,
  Service: serviceSchema,
  TrafficRoute: trafficRouteSchema,
  ResiliencePolicy: resiliencePolicySchema,
  FailoverPolicy: failoverPolicySchema,
  TrafficPermission: trafficPermissionSchema,
  Instance: instanceSchema,
  Certificate: certificateSchema,
};
