// Every kind's bounds, by kind, for readers that want them all (docs, tools).
// The numbers themselves live next to each schema.
import type { KindName } from '../kinds';
import { CERTIFICATE_BOUNDS } from './certificate';
import { LABEL_BOUNDS } from './common';
import { FAILOVER_POLICY_BOUNDS } from './failover-policy';
import { INSTANCE_BOUNDS } from './instance';
import { REGION_BOUNDS } from './region';
import { RESILIENCE_POLICY_BOUNDS } from './resilience-policy';
import { SERVICE_BOUNDS } from './service';
import { TRAFFIC_PERMISSION_BOUNDS } from './traffic-permission';
import { TRAFFIC_ROUTE_BOUNDS } from './traffic-route';

export const BOUNDS_BY_KIND = {
  Region: REGION_BOUNDS,
  Service: SERVICE_BOUNDS,
  TrafficRoute: TRAFFIC_ROUTE_BOUNDS,
  ResiliencePolicy: RESILIENCE_POLICY_BOUNDS,
  FailoverPolicy: FAILOVER_POLICY_BOUNDS,
  TrafficPermission: TRAFFIC_PERMISSION_BOUNDS,
  Instance: { ...INSTANCE_BOUNDS, labels: LABEL_BOUNDS },
  Certificate: CERTIFICATE_BOUNDS,
} as const satisfies Record<KindName, object>;
