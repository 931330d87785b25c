// The request target and its path segments, checked before any route reads
// them: whatever a client can put in a URL is a 400, never a thrown URIError.
import type * as http from 'node:http';
import { HttpError } from './http-response';

// Long enough to recognise, short enough for a one-line error.
function quote(raw: string): string {
  return raw.length > 64 ? `'${raw.slice(0, 64)}...'` : `'${raw}'`;
}

export function decodePathSegment(raw: string, what = 'path segment'): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `${what} ${quote(raw)}: malformed percent-encoding`);
  }
}

// Origin-form only (`/path?query`): an absolute URL or `*` is no request for this server.
export function requestUrl(req: http.IncomingMessage): URL {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) throw new HttpError(400, `request target ${quote(target)}: must be a path`);
  let url: URL;
  try {
    // Appended rather than resolved: `//host/x` is a path here, not another host.
    url = new URL(`http://admin${target}`);
  } catch {
    throw new HttpError(400, `request target ${quote(target)}: not a valid path`);
  }
  for (const segment of url.pathname.split('/')) decodePathSegment(segment);
  return url;
}
