// How the admin API's failures read on the terminal: one line each, naming
// what went wrong and, where there is one, what to do about it.
import { CliError } from './errors';

// One entry of a 400's `details` (docs/admin-api.md, Errors).
export interface ErrorDetail {
  index?: number;
  kind?: string;
  name?: string;
  path?: string;
  message: string;
}

interface Connection {
  server: string;
  token?: string;
  timeoutMs: number;
}

export class AdminApiError extends CliError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    readonly details: ErrorDetail[],
    readonly retryAfter: string | null,
    connection: Connection,
  ) {
    super(describeStatus(status, serverMessage, details, retryAfter, connection));
    this.name = 'AdminApiError';
  }
}

export function parseErrorBody(text: string): { message: string; details: ErrorDetail[] } {
  try {
    const body = JSON.parse(text) as { error?: unknown; details?: unknown };
    const message = typeof body.error === 'string' ? body.error : '';
    const details = Array.isArray(body.details) ? body.details.filter(isDetail) : [];
    return { message, details };
  } catch {
    // Not our server, or a proxy in between: its first line is the best we have.
    return { message: text.split('\n', 1)[0].trim().slice(0, 200), details: [] };
  }
}

function isDetail(d: unknown): d is ErrorDetail {
  return typeof d === 'object' && d !== null && typeof (d as ErrorDetail).message === 'string';
}

// `document 2 (Service/echo): spec.ports[0].port: must be ...`; `where` adds
// the file the document came from, when the caller knows it.
export function describeDetail(d: ErrorDetail, where?: string): string {
  let subject = '';
  if (typeof d.index === 'number') {
    const id = d.kind || d.name ? ` (${d.kind ?? '?'}/${d.name ?? '?'})` : '';
    subject = `document ${d.index}${id}${where ? ` in ${where}` : ''}: `;
  }
  const field = d.path ? `${d.path}: ` : '';
  return `${subject}${field}${d.message}`;
}

function describeStatus(
  status: number,
  message: string,
  details: ErrorDetail[],
  retryAfter: string | null,
  connection: Connection,
): string[] {
  const said = message || `HTTP ${status}`;
  switch (status) {
    case 400:
      return details.length > 0 ? details.map((d) => describeDetail(d)) : [`invalid request: ${said}`];
    case 401:
      return [
        `not authorized: ${said} (${connection.token ? 'the token was refused; check' : 'no token given; set'} --token or MERIDIAN_TOKEN)`,
      ];
    case 403:
      return [`forbidden: ${said} (this needs an admin token)`];
    case 404:
      return [`not found: ${said}`];
    case 409:
      return [`conflict: ${said} (the resource changed since it was read; get it again and retry)`];
    case 413:
      return [`request too large: ${said} (apply fewer documents at a time)`];
    case 503: {
      const when = retryAfter ? `; retry in ${retryAfter}s` : '; retry later';
      return [`the global controller cannot serve this now: ${said} (its store is unavailable${when})`];
    }
    default:
      return [`the global controller at ${connection.server} answered HTTP ${status}: ${said}`];
  }
}

// The error codes under fetch's `TypeError: fetch failed`, in words.
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

export function describeNetworkFailure(err: unknown, connection: Connection, what = 'the global controller'): string {
  const where = `${what} at ${connection.server}`;
  if (isTimeout(err)) return `${where} did not answer within ${connection.timeoutMs / 1000}s`;
  return `cannot reach ${where}: ${networkReason(err)}`;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError'));
}

function networkReason(err: unknown): string {
  // fetch wraps the socket's error in `cause`; a host with several addresses
  // gives an AggregateError whose `errors` hold the per-address ones.
  let cause: unknown = err instanceof Error && err.cause !== undefined ? err.cause : err;
  if (!codeOf(cause) && cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const code = codeOf(cause);
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  const message = cause instanceof Error ? cause.message : String(cause);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
