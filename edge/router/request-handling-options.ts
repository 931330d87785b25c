// The request-handling flags of `meridian edge`: whose forwarding headers to
// believe, and what the access log keeps of query strings. Parsed here so
// edge/options.ts only merges them.
import { ACCESS_LOG_QUERY_MODES, type AccessLogQuery } from '../observability/access-log';
import { MAX_TRUSTED_PROXIES, TrustedProxies } from './trusted-proxies';

export interface RequestHandlingOptions {
  trustedProxies: TrustedProxies;
  accessLogQuery: AccessLogQuery;
}

export const REQUEST_HANDLING_ARGS = {
  'trusted-proxies': { type: 'string' },
  'access-log-query': { type: 'string' },
} as const;

export const REQUEST_HANDLING_USAGE = `
Requests:
  --trusted-proxies CIDR,...  peers (a load balancer in front) whose x-forwarded-for, -proto,
                              -host and Forwarded headers are kept and appended to; the client
                              is then the right-most address not in these networks (default
                              none: every client's forwarding headers are replaced; at most
                              ${MAX_TRUSTED_PROXIES} networks)
  --access-log-query redacted|full
                              what access-log lines keep of query strings (default redacted:
                              the path and '?<redacted>')
  Paths are routed and forwarded with dot segments removed (RFC 3986; '..' above the root
  stays at the root); a malformed percent escape, an encoded slash (%2F) or an encoded dot
  segment (%2E%2E) is refused with 400. An absolute-form target's authority replaces Host.
`;

export function parseRequestHandlingOptions(
  values: Record<string, string | boolean | string[] | undefined>,
  fail: (message: string) => Error,
): RequestHandlingOptions {
  const trusted = values['trusted-proxies'];
  let trustedProxies = TrustedProxies.NONE;
  if (typeof trusted === 'string') {
    try {
      trustedProxies = TrustedProxies.parse(trusted, '--trusted-proxies');
    } catch (err) {
      throw fail((err as Error).message);
    }
  }
  const query = values['access-log-query'] ?? 'redacted';
  if (typeof query !== 'string' || !(ACCESS_LOG_QUERY_MODES as readonly string[]).includes(query)) {
    throw fail(`--access-log-query: expected ${ACCESS_LOG_QUERY_MODES.join(' or ')}, got '${String(query)}'`);
  }
  return { trustedProxies, accessLogQuery: query as AccessLogQuery };
}
