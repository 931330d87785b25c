// Emits to each listener on its own: one that throws is logged and must not
// keep the event from the listeners after it, nor break the emitter's caller
// (here: an etcd watch handler).
import type { EventEmitter } from 'node:events';
import type { Logger } from '../../lib/observability/logger';

export function emitToEach(emitter: EventEmitter, event: string, payload: unknown, logger: Logger): void {
  for (const listener of emitter.listeners(event)) {
    try {
      (listener as (p: unknown) => void).call(emitter, payload);
    } catch (err) {
      logger.error({ err, event }, `a '${event}' listener threw`);
    }
  }
}
