// What went wrong with a try, from the error undici reports: a connect
// failure (nothing was sent), a reset (the connection broke before the
// response headers), or a timeout waiting for them. The kind decides
// whether the try may be retried and labels meridian_edge_upstream_errors_total.
import type { FailureKind } from '../resilience/retry-policy';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  // The pool was closed (its instance left the view) between the pick and
  // the dispatch: refused at dispatch, nothing was sent.
  'UND_ERR_CLOSED',
  // TLS handshake failures towards a remote ingress.
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export function classifyUpstreamError(err: unknown): FailureKind {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (CONNECT_CODES.has(code)) return 'connect-failure';
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT' || code === 'MERIDIAN_PATH_DEAD') return 'timeout';
  }
  return 'reset';
}

// A few words for the client and the log: "connection refused".
export function describeUpstreamError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timed out';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'no response headers within the per-try timeout';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'response body stalled';
    case 'MERIDIAN_PATH_DEAD':
      return (err as Error).message;
    default:
      return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  }
}
