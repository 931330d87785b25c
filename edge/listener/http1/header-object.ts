// A request's headers as an object, from its raw [name, value, ...] list,
// with node:http's rules for repeated fields (IncomingMessage.headers): the
// first of a single-valued field wins, Cookie joins with '; ', Set-Cookie
// becomes a list, any other field joins with ', '. Built only when something
// reads it (traffic rules with header matches).
import type { IncomingHttpHeaders } from 'node:http';

const FIRST_WINS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

export function headerObject(raw: readonly string[], pairs = raw.length): IncomingHttpHeaders {
  const dest: Record<string, string | string[]> = {};
  for (let i = 0; i < pairs - 1; i += 2) {
    const field = raw[i].toLowerCase();
    const value = raw[i + 1];
    const seen = dest[field];
    if (field === 'set-cookie') {
      if (seen !== undefined) (seen as string[]).push(value);
      else dest[field] = [value];
    } else if (FIRST_WINS.has(field)) {
      if (seen === undefined) dest[field] = value;
    } else if (typeof seen === 'string') {
      dest[field] = seen + (field === 'cookie' ? '; ' : ', ') + value;
    } else {
      dest[field] = value;
    }
  }
  return dest as IncomingHttpHeaders;
}
