// Every unary etcd call of the store goes through here: it carries a deadline
// and is also raced against a timer of our own (etcd3's retry and circuit
// breaker policies run inside the call, so the deadline alone is not a bound
// on how long the promise takes), and failures that mean "etcd is not
// reachable" become StoreUnavailableError. Other errors pass through unchanged.
import type { CallOptions } from '@grpc/grpc-js';
import { ClientClosedError, isRecoverableError } from 'etcd3';
import { StoreUnavailableError } from './errors';

// Slack for our own timer over the gRPC deadline, so the deadline normally
// wins and the caller sees etcd's own error.
const TIMER_SLACK_MS = 250;

export function isEtcdUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError || err instanceof ClientClosedError) return true;
  if (typeof err !== 'object' || err === null) return false;
  // cockatiel's open circuit breaker; etcd3 rethrows it when no call went through.
  if ((err as { isBrokenCircuitError?: boolean }).isBrokenCircuitError === true) return true;
  // etcd3 marks UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ... as recoverable.
  return isRecoverableError(err as Error);
}

export function toStoreError(operation: string, err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  if (isEtcdUnavailable(err)) {
    return new StoreUnavailableError(operation, err instanceof Error ? err.message : String(err), { cause: err });
  }
  return err;
}

export async function callEtcd<T>(operation: string, timeoutMs: number, call: (options: CallOptions) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(operation, `no answer from etcd within ${timeoutMs} ms`)),
      timeoutMs + TIMER_SLACK_MS,
    );
  });
  try {
    return await Promise.race([call({ deadline: Date.now() + timeoutMs }), timeout]);
  } catch (err) {
    throw toStoreError(operation, err);
  } finally {
    clearTimeout(timer);
  }
}
