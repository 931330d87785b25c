// The timeouts of one request. The request timeout is the smaller of the
// Service's limits.requestTimeout and the ResiliencePolicy's timeouts.request
// (both default to 30s, either can tighten it); it runs from the moment the
// request arrives and ends it with a 504 if no response has started. A
// per-try timeout bounds the wait for response headers of each try, and such
// a try may be retried.
export function requestTimeoutMs(serviceLimitMs: number, policyMs: number): number {
  return Math.min(serviceLimitMs, policyMs);
}

// undici's headersTimeout for one try: the per-try timeout when set, never
// past what is left of the request (0 disables undici's own timer: the
// request timer covers it).
export function tryHeadersTimeoutMs(perTryMs: number, remainingMs: number): number {
  if (perTryMs <= 0) return 0;
  return Math.max(1, Math.min(perTryMs, remainingMs));
}
