// The etcd client of the global controller, tuned to fail fast and recover
// fast: calls carry a deadline instead of hanging while etcd is away; the
// per-host circuit breaker is short, and watches come back within a second or
// two once etcd does.
import { Etcd3 } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleAll, retry, type IBackoff } from 'cockatiel';
import { guardEtcdWatchResponses } from './etcd-watch-guard';

guardEtcdWatchResponses();

export function createEtcdClient(endpoints: string[], callTimeoutMs = 2000): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    dialTimeout: callTimeoutMs,
    // Keepalive notices a silent partition, which would otherwise stall watches unnoticed.
    grpcOptions: { 'grpc.keepalive_time_ms': 5_000, 'grpc.keepalive_timeout_ms': 2_000, 'grpc.keepalive_permit_without_calls': 1 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      host: () => circuitBreaker(handleAll, { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(3) }),
      // A retry only helps when another endpoint can answer.
      global: retry(handleAll, { maxAttempts: endpoints.length > 1 ? 1 : 0 }),
      // etcd3 types this as a backoff but calls it as a factory (.next()).
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) as unknown as IBackoff<unknown>,
    },
  });
}
