// The request and response types of the listeners (HTTP/1.1 from the fast
// path or node:http, HTTP/2 through node:http2's compatibility API) as the
// pipeline uses them.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { FastRequest } from '../listener/http1/fast-request';
import type { FastResponse } from '../listener/http1/fast-response';

export type ClientRequest = IncomingMessage | Http2ServerRequest | FastRequest;
export type ClientResponse = ServerResponse | Http2ServerResponse | FastResponse;

// The methods the pipeline calls, which both response types have.
export interface ResponseWriter {
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  addTrailers(trailers: OutgoingHttpHeaders): void;
  once(event: 'drain', listener: () => void): unknown;
}

export function writer(res: ClientResponse): ResponseWriter {
  return res as unknown as ResponseWriter;
}

export function isHttp2(req: ClientRequest): req is Http2ServerRequest {
  return req.httpVersionMajor === 2;
}

// Ends a response whose headers already went out, so the client sees it
// broken rather than complete: the HTTP/1.1 connection is closed, the HTTP/2
// stream reset.
export function abortResponse(res: ClientResponse): void {
  if ('stream' in res) {
    if (!res.stream.destroyed) res.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  } else {
    res.destroy();
  }
}
