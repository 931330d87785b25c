// When a failed try may be tried again. Connect failures are safe for every
// method (nothing reached the instance); a reset before the response headers,
// a per-try timeout, or a 502/503 answer only for idempotent requests: GET,
// HEAD, OPTIONS, PUT, DELETE, TRACE, or any method with an idempotency-key
// header. Whether the body can be sent again and the budget are checked by
// the caller; nothing is retried once response bytes went to the client.
export type FailureKind = 'connect-failure' | 'reset' | 'timeout' | '502' | '503' | '504';

export interface RetryOn {
  connectFailure: boolean;
  reset: boolean;
  status502: boolean;
  status503: boolean;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
}

export function isRetryable(kind: FailureKind, on: RetryOn, idempotent: boolean): boolean {
  switch (kind) {
    case 'connect-failure':
      return on.connectFailure;
    case 'reset':
    case 'timeout':
      return on.reset && idempotent;
    case '502':
      return on.status502 && idempotent;
    case '503':
      return on.status503 && idempotent;
    default:
      return false;
  }
}

// Upstream answers that count as failures of the instance (outlier
// detection, circuit breaking) and may be retried. A 500 is the
// application's answer and passes through.
export function failureOfStatus(status: number): FailureKind | undefined {
  if (status === 502) return '502';
  if (status === 503) return '503';
  if (status === 504) return '504';
  return undefined;
}
