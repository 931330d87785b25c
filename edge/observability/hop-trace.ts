// The span of one hop through a gateway (W3C Trace Context): the trace of the
// incoming traceparent is kept, or a new one starts; the hop gets its own
// span id, and each request it sends on carries a traceparent naming as
// parent the hop's span (to an ingress) or the span of the call (to an
// instance). Plain fields on the exchange, so a request costs a few strings.
//
// Sampling, one decision per trace: the edge takes a request into the log by
// the access-log sample; a hop behind it (an ingress reached by another
// Meridian gateway) follows the sampled flag it is sent, so a trace is
// logged whole or not at all.
import { isSampled, isValidTraceparent, parentIdOf, traceIdOf } from '../../lib/tracing/traceparent';
import { newSpanId, newTraceId } from '../../lib/tracing/trace-ids';
import type { AccessLog } from './access-log';

export type HopSpanName = 'edge' | 'ingress';
export const INSTANCE_CALL_SPAN = 'instance call';

export interface HopTrace {
  traceId: string;
  spanId: string;
  // '' when the trace starts here.
  parentSpanId: string;
  sampled: boolean;
}

// fromMeshHop: the request came from another Meridian gateway (hop header).
export function beginHopTrace(t: HopTrace, traceparent: string | undefined, fromMeshHop: boolean, log: AccessLog): void {
  t.spanId = newSpanId();
  if (traceparent !== undefined && isValidTraceparent(traceparent)) {
    t.traceId = traceIdOf(traceparent);
    t.parentSpanId = parentIdOf(traceparent);
    t.sampled = fromMeshHop ? log.enabled && isSampled(traceparent) : log.wants();
  } else {
    t.traceId = newTraceId();
    t.parentSpanId = '';
    t.sampled = log.wants();
  }
}
