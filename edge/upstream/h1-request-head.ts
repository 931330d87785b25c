// The head of a request to an instance, serialized once into one string as
// undici's HTTP/1.1 client writes it, and refused where undici refuses it
// (InvalidArgumentError: a header value with CR, LF or NUL, a name that is
// no token, a second Host, framing headers the caller may not set), so an
// instance sees the same bytes whichever pool sent them:
//
//   METHOD path HTTP/1.1\r\n
//   host: <Host header, or the instance's address:port>\r\n
//   connection: keep-alive | close\r\n      (close: HEAD, or Connection: close)
//   <the other headers, in order, as given>
//   content-length: N\r\n | transfer-encoding: chunked\r\n   (body framing)
//   \r\n
//
// Body framing as undici's: a Buffer body gets its length; a stream its
// Content-Length header when given, chunked otherwise; no body gets
// content-length: 0 on a method that expects one (POST, PUT, PATCH...),
// nothing on the others.
import { Readable } from 'node:stream';
import { errors } from 'undici';

// RFC 9110 token characters (a method, a header name).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A field value may hold HTAB, visible ASCII and obs-text; never CR, LF, NUL.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// A request target: no control characters, no spaces, nothing above latin1.
const INVALID_PATH = /[^\u0021-\u00ff]/;

// Methods whose requests carry a body by convention: content-length: 0 when
// they have none (RFC 9110 8.6), and their connection stays reusable when
// they send one.
export function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'QUERY' || method === 'PROPFIND' || method === 'PROPPATCH';
}

// What the serializer fills in on a request.
export interface RequestHeadTarget {
  // The whole head (framing and the blank line included) for a Buffer or no
  // body; for a stream body, everything before its framing line.
  head: string;
  // A Content-Length header the caller gave (a stream body is sent with it), or -1.
  declaredLength: number;
  // Close the connection after this request.
  reset: boolean;
}

type HeaderInput = Readonly<Record<string, string | string[] | null | undefined>> | readonly string[] | null | undefined;

// Fills target.head/declaredLength/reset, or throws undici's
// InvalidArgumentError. `defaultHost` is the instance's authority. One pass
// over the headers, no object but the head string.
export function serializeRequestHead(
  target: RequestHeadTarget,
  method: string,
  path: string,
  headers: HeaderInput,
  body: Buffer | Readable | null,
  defaultHost: string,
): void {
  if (typeof path !== 'string' || (path.charCodeAt(0) !== 47 /* / */ && !path.startsWith('http://') && !path.startsWith('https://'))) {
    throw new errors.InvalidArgumentError('path must be an absolute URL or start with a slash');
  }
  if (INVALID_PATH.test(path)) throw new errors.InvalidArgumentError('invalid request path');
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new errors.InvalidArgumentError('invalid request method');
  const flat = Array.isArray(headers) ? (headers as readonly string[]) : flatten(headers as Exclude<HeaderInput, readonly string[]>);
  if (flat.length % 2 !== 0) throw new errors.InvalidArgumentError('headers array must be even');
  let host: string | null = null;
  let declaredLength = -1;
  // undici closes the connection after a HEAD: a misbehaving server may
  // answer it with a body.
  let reset = method === 'HEAD';
  let lines = '';
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    let value: unknown = flat[i + 1];
    if (value === undefined) continue;
    if (typeof value !== 'string') value = value === null ? '' : String(value);
    const v = value as string;
    const lower = name.toLowerCase();
    if (!TOKEN.test(lower)) throw new errors.InvalidArgumentError('invalid header key');
    if (INVALID_VALUE.test(v)) throw new errors.InvalidArgumentError(`invalid ${name} header`);
    switch (lower) {
      case 'host':
        if (host !== null) throw new errors.InvalidArgumentError('duplicate host header');
        host = v;
        break;
      case 'content-length':
        if (declaredLength >= 0) throw new errors.InvalidArgumentError('duplicate content-length header');
        if (!/^[0-9]+$/.test(v)) throw new errors.InvalidArgumentError('invalid content-length header');
        declaredLength = parseInt(v, 10);
        break;
      case 'transfer-encoding':
      case 'keep-alive':
      case 'upgrade':
        throw new errors.InvalidArgumentError(`invalid ${lower} header`);
      case 'connection':
        for (const token of v.toLowerCase().split(',')) {
          const t = token.trim();
          if (!TOKEN.test(t)) throw new errors.InvalidArgumentError('invalid connection header');
          if (t === 'close') reset = true;
        }
        break;
      case 'expect':
        throw new errors.NotSupportedError('expect header not supported');
      default:
        lines += `${name}: ${v}\r\n`;
    }
  }
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host ?? defaultHost}\r\n${reset ? 'connection: close\r\n' : 'connection: keep-alive\r\n'}${lines}`;
  if (!(body instanceof Readable)) {
    const length = body === null ? 0 : body.length;
    if (length > 0) {
      if (declaredLength >= 0 && declaredLength !== length && shouldSendContentLength(method)) {
        throw new errors.RequestContentLengthMismatchError();
      }
      head += `content-length: ${length}\r\n\r\n`;
    } else {
      head += expectsPayload(method) ? 'content-length: 0\r\n\r\n' : '\r\n';
    }
  }
  target.head = head;
  target.declaredLength = declaredLength;
  target.reset = reset;
}

// Headers given as an object (undici takes both forms; the pipeline uses the list).
function flatten(headers: Exclude<HeaderInput, readonly string[]>): string[] {
  const out: string[] = [];
  if (headers == null) return out;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value as string);
  }
  return out;
}

// RFC 9110 8.6: the methods a Content-Length is checked against.
function shouldSendContentLength(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && method !== 'TRACE' && method !== 'CONNECT';
}

// The authority an instance gets as Host when the request names none, as
// undici's origin gives it (no port for 80).
export function defaultHostOf(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port === 80 ? host : `${host}:${port}`;
}
