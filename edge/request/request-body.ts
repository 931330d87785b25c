// The body layer: what to do with a request body (hasBody, bodyPlan), once the
// request is routed. Bodies up to 64 KiB are read whole before the first
// try, so a failed try can send them again (and a malformed chunked body is
// refused before anything reaches an instance). Longer ones are streamed to
// the upstream as they arrive, and their request is never retried (but for
// a connect failure before any of it was read). A body over the service's
// limits.maxRequestBodyBytes is refused with 413: before reading when its
// Content-Length says so, while reading otherwise.
import { Readable } from 'node:stream';
import type { Backend } from '../backend/backend';
import type { BackendSet } from '../backend/backend-set';
import type { RouteResult } from '../router/router';
import type { ClientRequest } from './client-types';
import { isHttp2 } from './client-types';
import type { RequestHead } from './request-head';

export const REPLAYABLE_BODY_LIMIT = 64 * 1024;

// For a request with a body (hasBody). too-large: its Content-Length is over
// the limit (413). buffer: read whole first (readBody; may turn out longer:
// streamed then). stream: unknown length to an HTTP/2 service (gRPC),
// streamed from the first byte, since a streaming call waits for answers
// before it sends more. stream-with-length: known and long, streamed as it
// comes.
export type BodyPlan = 'too-large' | 'buffer' | 'stream' | 'stream-with-length';

export function bodyPlan(head: RequestHead, maxBytes: number, http2Upstream: boolean): BodyPlan {
  const length = head.contentLength;
  if (length > maxBytes) return 'too-large';
  if (length < 0 && http2Upstream) return 'stream';
  if (length > REPLAYABLE_BODY_LIMIT) return 'stream-with-length';
  return 'buffer';
}

// The limit of the service the host and path named, even when a split sends
// the request elsewhere (asked only for a request with a body: it makes
// that service's backend if no request made it yet).
export function bodyLimit(backends: BackendSet, route: RouteResult, backend: Backend): number {
  return (route.service === route.backend ? backend : backends.get(route.service) ?? backend).policy.maxRequestBodyBytes;
}

export function hasBody(req: ClientRequest, head: RequestHead): boolean {
  if (head.contentLength === 0) return false;
  if (isHttp2(req)) return !req.stream.endAfterHeaders;
  return head.transferEncoding || head.contentLength > 0;
}

export class BodyTooLargeError extends Error {
  readonly code = 'MERIDIAN_BODY_TOO_LARGE';
}

// A body too long to keep, passed on as it arrives: what was read so far,
// then the rest of the request, failing once it exceeds maxBytes. The
// stream shows the request's trailers, for an HTTP/2 upstream to pass on.
export class StreamedBody {
  exceeded = false;
  readonly stream: Readable;

  constructor(req: ClientRequest, prefix: Buffer[], prefixLength: number, maxBytes: number) {
    this.stream = Readable.from(this.chunks(req, prefix, prefixLength, maxBytes), { objectMode: false });
    Object.defineProperty(this.stream, 'trailers', { get: () => req.trailers });
  }

  private async *chunks(req: ClientRequest, prefix: Buffer[], length: number, maxBytes: number): AsyncGenerator<Buffer> {
    yield* prefix;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        this.exceeded = true;
        throw new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`);
      }
      yield chunk;
    }
  }
}

export type BodyRead = { complete: true; body: Buffer } | { complete: false; body: StreamedBody };

// Reads up to REPLAYABLE_BODY_LIMIT bytes. A body that ends by then comes
// back whole; a longer one as a StreamedBody. `expected` is the
// Content-Length, or -1.
export function readBody(req: ClientRequest, expected: number, maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      chunks.push(chunk);
      if (length > maxBytes) {
        cleanup();
        reject(new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`));
      } else if (expected < 0 && length > REPLAYABLE_BODY_LIMIT) {
        cleanup();
        req.pause();
        resolve({ complete: false, body: new StreamedBody(req, chunks, length, maxBytes) });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ complete: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length) });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => onError(new Error('client aborted the request body'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
