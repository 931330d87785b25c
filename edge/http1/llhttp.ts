// Access to node's own HTTP/1.1 parser (llhttp, through the binding
// node:http uses), for both sides of the fast HTTP/1.1 path: requests from
// clients (listener/http1/) and responses from instances
// (upstream/h1-instance-pool.ts). The same parser, the same strictness (no
// lenient flags) and the same limit on header bytes as node:http: what it
// refuses (smuggling shapes, bad chunk sizes, conflicting lengths, obs-fold,
// bare LF...) is refused here byte for byte, with the same HPE_* codes. It is
// reached through '_http_common', which node has exported since its first
// versions; if a node release drops it, the edge refuses to start with the
// fast path rather than parse HTTP itself.
//
// Contract (node/lib/_http_common.js, src/node_http_parser.cc, Node 20):
// kOnHeadersComplete(major, minor, rawHeaders, method, url, status,
// statusMessage, upgrade, shouldKeepAlive) returns 0, or 1 to skip the body
// (the answer to a HEAD); rawHeaders is undefined when more than 32 header
// lines came and kOnHeaders handed them over already; kOnHeaders(rawHeaders,
// url) also carries the trailers of a chunked body; execute(buf) returns the
// bytes parsed or an Error with code 'HPE_*'; finish() at EOF ends a
// read-until-close body.

import { maxHeaderSize as nodeMaxHeaderSize } from 'node:http';

export interface ParserError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

// node's parser object, as the binding defines it.
export interface HttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserError;
  finish(): ParserError | undefined;
  close(): void;
  free(): void;
  // Read a libuv stream directly (node:http's server does), and stop.
  consume?(handle: object): void;
  unconsume?(): void;
  getCurrentBuffer?(): Buffer;
  [key: number]: unknown;
}

// A socket's libuv stream, which the parser can read from directly
// (consume, as node:http's server does): no 'data' event per read.
export interface StreamHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

interface ParserConstructor {
  new (): HttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone: number;
}

interface HttpCommon {
  HTTPParser?: ParserConstructor;
  methods?: string[];
  _checkIsHttpToken?: (value: string) => boolean;
  _checkInvalidHeaderChar?: (value: string) => boolean;
}

// What the fast path needs from `common` (node's '_http_common'), or a clear error.
export function checkHttpCommon(common: HttpCommon): Required<HttpCommon> {
  const P = common.HTTPParser;
  const missing: string[] = [];
  if (typeof P !== 'function') missing.push('HTTPParser');
  else {
    for (const k of ['REQUEST', 'RESPONSE', 'kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete', 'kLenientNone'] as const) {
      if (typeof P[k] !== 'number') missing.push(`HTTPParser.${k}`);
    }
    for (const m of ['initialize', 'execute', 'finish', 'close'] as const) {
      if (typeof (P.prototype as Record<string, unknown>)[m] !== 'function') missing.push(`HTTPParser.prototype.${m}`);
    }
  }
  if (!Array.isArray(common.methods)) missing.push('methods');
  if (typeof common._checkIsHttpToken !== 'function') missing.push('_checkIsHttpToken');
  if (typeof common._checkInvalidHeaderChar !== 'function') missing.push('_checkInvalidHeaderChar');
  if (missing.length > 0) {
    throw new Error(
      `the fast HTTP/1.1 path needs node's HTTP parser from '_http_common' (missing: ${missing.join(', ')}) in node ${process.version}; ` +
        'start the edge with --http1-engine node instead',
    );
  }
  return common as Required<HttpCommon>;
}

let loaded: Required<HttpCommon> | undefined;

// Throws a clear error when this node has no usable parser; called when a
// fast listener or pool is created, so a missing API stops the edge at startup.
export function llhttp(): Required<HttpCommon> {
  loaded ??= checkHttpCommon(require('_http_common') as HttpCommon);
  return loaded;
}

export function parserConstants(): ParserConstructor {
  return llhttp().HTTPParser;
}

// A request parser with node:http's settings: maxHeaderSize bytes of head at
// most, nothing lenient.
export function newRequestParser(maxHeaderSize: number): HttpParser {
  const P = llhttp().HTTPParser;
  const parser = new P();
  parser.initialize(P.REQUEST, {}, maxHeaderSize, P.kLenientNone);
  return parser;
}

// A response parser with node:http's client settings: node's header limit
// (16 KiB unless --max-http-header-size says otherwise, as undici takes too),
// nothing lenient.
export function newResponseParser(): HttpParser {
  const P = llhttp().HTTPParser;
  const parser = new P();
  parser.initialize(P.RESPONSE, {}, nodeMaxHeaderSize, P.kLenientNone);
  return parser;
}
