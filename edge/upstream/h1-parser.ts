// The HTTP/1.1 response parser of the fast instance pool: Node's own llhttp
// binding, the parser node:http uses. Its framing (Content-Length, chunked,
// duplicate or conflicting lengths, read-until-close) is the vetted one, so
// a malformed or smuggling response fails the same way it fails node:http;
// no framing is parsed by hand here. It is reached through the internal
// module `_http_common` (no public API offers it): everything it needs is
// checked once at load, so a Node without it fails at startup with a clear
// message rather than on the first request.
//
// Contract (node/lib/_http_common.js, src/node_http_parser.cc, Node 20):
// - initialize(RESPONSE, resource, maxHeaderSize, lenient) before each use;
// - kOnHeadersComplete(major, minor, rawHeaders, method, url, status,
//   statusMessage, upgrade, shouldKeepAlive) returns 0, or 1 to skip the
//   body (a HEAD response); rawHeaders is undefined when more than 32
//   header lines came and were handed over by kOnHeaders already;
// - kOnHeaders(rawHeaders, url): header lines in batches, and the trailers
//   of a chunked body (before kOnMessageComplete);
// - kOnBody(chunk): a copy of body bytes; kOnMessageComplete();
// - execute(buf) returns the bytes parsed or an Error with code 'HPE_*';
//   finish() at EOF ends a read-until-close body (or returns an Error);
// - free() releases the native parser state once the connection is done.

import { maxHeaderSize } from 'node:http';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(chunk: Buffer): number | ParserError;
  finish(): undefined | ParserError;
  free(): void;
  [key: number]: unknown;
}

export interface ParserError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

interface ParserClass {
  new (): LlhttpParser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}

function load(): ParserClass {
  let HTTPParser: ParserClass | undefined;
  try {
    HTTPParser = (require('_http_common') as { HTTPParser?: ParserClass }).HTTPParser;
  } catch {
    HTTPParser = undefined;
  }
  const p = HTTPParser?.prototype as Partial<LlhttpParser> | undefined;
  if (
    HTTPParser === undefined ||
    typeof HTTPParser.RESPONSE !== 'number' ||
    typeof HTTPParser.kOnHeadersComplete !== 'number' ||
    typeof HTTPParser.kOnBody !== 'number' ||
    typeof HTTPParser.kOnMessageComplete !== 'number' ||
    typeof HTTPParser.kOnHeaders !== 'number' ||
    typeof HTTPParser.kLenientNone !== 'number' ||
    typeof p?.initialize !== 'function' ||
    typeof p.execute !== 'function' ||
    typeof p.finish !== 'function' ||
    typeof p.free !== 'function'
  ) {
    throw new Error(
      `the fast HTTP/1.1 instance pool needs Node's llhttp binding (require('_http_common').HTTPParser), which Node ${process.version} does not offer as expected: run with --http1-engine undici`,
    );
  }
  return HTTPParser;
}

export const HTTPParser = load();

// The limit of a response head: Node's (16 KiB unless --max-http-header-size
// says otherwise), which undici takes too.
const MAX_HEADER_SIZE = maxHeaderSize;

export function newResponseParser(): LlhttpParser {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, MAX_HEADER_SIZE, HTTPParser.kLenientNone);
  return parser;
}
