// What watches a running gateway from the side (the anycast announcer, the
// reports to the zone): told of every view it applies, asked for extra
// /healthz lines and /v1/view fields, closed with it. Keeps those concerns
// out of gateway.ts.
import type { EdgeView } from '../config/edge-view';

export interface GatewayObserver {
  onView?(view: EdgeView): void;
  // `key: value` lines added to /healthz.
  healthFields?(): Record<string, string | number | boolean>;
  // Fields added to /v1/view.
  summary?(): Record<string, unknown>;
  close?(): Promise<void> | void;
}
