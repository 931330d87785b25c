// One HTTP/1.1 response of the fast path: what the pipeline calls on a
// response (ResponseWriter, local-reply.ts), written on the client socket as
// node:http's ServerResponse would write it, byte for byte: the status line
// and headers as one string, Date when the response has none, Connection
// keep-alive (with Keep-Alive: timeout) or close, Content-Length when the
// headers carry it and chunked encoding (with trailers) otherwise; an
// HTTP/1.0 client gets the body until the connection closes. HEAD, 204, 304
// and 1xx have no body. The head goes out with the first body bytes, and a
// whole body given to end() goes out with it in one write.
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { FastRequest } from './fast-request';
import { llhttp } from '../../http1/llhttp';
import { utcDate } from './utc-date';

// What a response needs from its connection.
export interface ResponseSink {
  readonly socket: Socket;
  // The Keep-Alive header's value (`timeout=N`), or '' for none.
  readonly keepAliveHeader: string;
  // This response was ended (its bytes handed to the socket).
  responseEnded(res: FastResponse): void;
}

const RE_CONN_CLOSE = /(?:^|\W)close(?:$|\W)/i;
const RE_TE_CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n';
// Below this, a head and a Buffer body are copied into one buffer for one
// write; above, they are written corked (one writev) without the copy.
const COPY_LIMIT = 16 * 1024;

const statusLines: string[] = [];

function statusLine(status: number): string {
  let line = statusLines[status];
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    statusLines[status] = line;
  }
  return line;
}

// node:http's errors for what its validation refuses, with its codes and messages.
function codedError(code: string, message: string, Kind: typeof Error = Error): Error {
  const err = new Kind(message) as Error & { code: string };
  err.code = code;
  return err;
}

// State of one head being built (node:http's _storeHeader).
interface HeadState {
  text: string;
  connection: boolean;
  contentLength: boolean;
  te: boolean;
  date: boolean;
  trailer: boolean;
}

// The events as a Writable types them, so the pipeline can listen on any
// of its response types alike.
export interface FastResponse {
  on(event: 'close', listener: () => void): this;
  on(event: 'drain', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'finish', listener: () => void): this;
  on(event: 'pipe', listener: (src: Readable) => void): this;
  on(event: 'unpipe', listener: (src: Readable) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as Writable declares it
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export class FastResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  // Close the connection once this response is out.
  last = false;
  // A write returned false: 'drain' is owed when the socket drains.
  needDrain = false;
  readonly req: FastRequest;
  private readonly sink: ResponseSink;
  private keepAlive: boolean;
  private hasBody: boolean;
  // HTTP/1.1 (or a 1.0 client that asked for chunked): chunked when no length is known.
  private readonly chunkedByDefault: boolean;
  private chunked = false;
  private defaultKeepAlive = true;
  // The head, until it is written with the first body bytes.
  private pendingHead = '';
  private trailer = '';
  // A body length known before the head was made (end() without writeHead), or -1.
  private implicitLength = -1;

  constructor(sink: ResponseSink, req: FastRequest, keepAlive: boolean) {
    super();
    this.sink = sink;
    this.req = req;
    this.keepAlive = keepAlive;
    this.hasBody = req.method !== 'HEAD';
    this.chunkedByDefault = req.httpVersionMinor >= 1 || req.httpVersionMajor > 1 || RE_TE_CHUNKED.test(teHeader(req.rawHeaders));
  }

  get writableFinished(): boolean {
    return this.writableEnded;
  }

  get destroyed(): boolean {
    return this.sink.socket.destroyed;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders): this {
    if (this.headersSent) throw codedError('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    const code = status | 0;
    if (code < 100 || code > 999) throw codedError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${status}`, RangeError);
    this.statusCode = code;
    if (code === 204 || code === 304 || code < 200) this.hasBody = false;
    const state: HeadState = { text: statusLine(code), connection: false, contentLength: false, te: false, date: false, trailer: false };
    if (headers !== undefined) {
      const common = llhttp();
      for (const key in headers) {
        const value = headers[key];
        if (!common._checkIsHttpToken(key)) throw codedError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${key}"]`, TypeError);
        if (Array.isArray(value)) {
          if (value.length < 2 || key.toLowerCase() !== 'cookie') {
            for (let i = 0; i < value.length; i++) this.storeHeader(state, key, value[i]);
            continue;
          }
          this.storeHeader(state, key, value.join('; '));
        } else {
          this.storeHeader(state, key, value);
        }
      }
    }
    let head = state.text;
    if (!state.date) head += 'Date: ' + utcDate() + CRLF;
    if (this.chunked && (code === 204 || code === 304)) {
      this.chunked = false;
      this.keepAlive = false;
    }
    if (!state.connection) {
      if (this.keepAlive && (state.contentLength || this.chunkedByDefault)) {
        head += 'Connection: keep-alive\r\n';
        const ka = this.sink.keepAliveHeader;
        if (ka !== '' && this.defaultKeepAlive) head += ka;
      } else {
        this.last = true;
        head += 'Connection: close\r\n';
      }
    }
    if (!state.contentLength && !state.te) {
      if (!this.hasBody) {
        this.chunked = false;
      } else if (!this.chunkedByDefault) {
        this.last = true;
      } else if (!state.trailer && this.implicitLength >= 0) {
        head += 'Content-Length: ' + this.implicitLength + CRLF;
      } else {
        head += 'Transfer-Encoding: chunked\r\n';
        this.chunked = true;
      }
    }
    if (!this.chunked && state.trailer) throw codedError('ERR_HTTP_TRAILER_INVALID', 'Trailers are invalid with this transfer encoding');
    this.pendingHead = head + CRLF;
    this.headersSent = true;
    return this;
  }

  private storeHeader(state: HeadState, key: string, value: unknown): void {
    if (value === undefined) throw codedError('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "${value}" for header "${key}"`, TypeError);
    const text = typeof value === 'string' ? value : String(value);
    if (llhttp()._checkInvalidHeaderChar(text)) throw codedError('ERR_INVALID_CHAR', `Invalid character in header content ["${key}"]`, TypeError);
    state.text += key + ': ' + text + CRLF;
    const n = key.length;
    if (n !== 4 && n !== 7 && n !== 10 && n !== 14 && n !== 17) return;
    switch (key.toLowerCase()) {
      case 'connection':
        state.connection = true;
        if (RE_CONN_CLOSE.test(text)) this.last = true;
        else this.keepAlive = true;
        break;
      case 'transfer-encoding':
        state.te = true;
        if (RE_TE_CHUNKED.test(text)) this.chunked = true;
        break;
      case 'content-length':
        state.contentLength = true;
        break;
      case 'date':
        state.date = true;
        break;
      case 'trailer':
        state.trailer = true;
        break;
      case 'keep-alive':
        this.defaultKeepAlive = false;
        break;
    }
  }

  addTrailers(trailers: OutgoingHttpHeaders): void {
    const common = llhttp();
    let text = '';
    for (const field in trailers) {
      const value = trailers[field];
      if (!common._checkIsHttpToken(field)) throw codedError('ERR_INVALID_HTTP_TOKEN', `Trailer name must be a valid HTTP token ["${field}"]`, TypeError);
      if (Array.isArray(value) && value.length > 1) {
        for (const v of value) {
          if (common._checkInvalidHeaderChar(String(v))) throw codedError('ERR_INVALID_CHAR', `Invalid character in trailer content ["${field}"]`, TypeError);
          text += field + ': ' + v + CRLF;
        }
      } else {
        const v = Array.isArray(value) ? value.join('; ') : String(value);
        if (common._checkInvalidHeaderChar(v)) throw codedError('ERR_INVALID_CHAR', `Invalid character in trailer content ["${field}"]`, TypeError);
        text += field + ': ' + v + CRLF;
      }
    }
    this.trailer = text;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.sink.socket;
    if (socket.destroyed) return false;
    if (!socket.writable) return true;
    const head = this.pendingHead;
    const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (!this.hasBody || length === 0) {
      if (head === '') return true;
      this.pendingHead = '';
      return this.track(socket.write(head, 'latin1'));
    }
    if (!this.chunked) {
      if (head === '') return this.track(socket.write(chunk));
      this.pendingHead = '';
      return this.track(writeHeadAnd(socket, head, chunk));
    }
    this.pendingHead = '';
    const size = length.toString(16) + CRLF;
    if (typeof chunk === 'string' && head === '') return this.track(socket.write(size + chunk + CRLF));
    socket.cork();
    socket.write(head + size, 'latin1');
    socket.write(chunk);
    const ok = socket.write(CRLF, 'latin1');
    socket.uncork();
    return this.track(ok);
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) {
      this.implicitLength = chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.writeHead(this.statusCode);
    }
    this.writableEnded = true;
    const socket = this.sink.socket;
    if (socket.writable) {
      const head = this.pendingHead;
      this.pendingHead = '';
      const length = chunk === undefined || !this.hasBody ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (!this.chunked) {
        if (length === 0) {
          if (head !== '') socket.write(head, 'latin1');
        } else if (head === '') {
          socket.write(chunk!);
        } else {
          writeHeadAnd(socket, head, chunk!);
        }
      } else {
        const tail = LAST_CHUNK + this.trailer + CRLF;
        if (length === 0) {
          socket.write(head + tail, 'latin1');
        } else if (typeof chunk === 'string') {
          // The head goes with the chunk size (latin1), the chunk as utf8.
          socket.cork();
          socket.write(head + length.toString(16) + CRLF, 'latin1');
          socket.write(chunk + CRLF);
          socket.write(tail, 'latin1');
          socket.uncork();
        } else {
          socket.cork();
          socket.write(head + length.toString(16) + CRLF, 'latin1');
          socket.write(chunk!);
          socket.write(CRLF + tail, 'latin1');
          socket.uncork();
        }
      }
    }
    this.sink.responseEnded(this);
    return this;
  }

  // Ends the response where it is, closing the connection (the client sees
  // a broken response).
  destroy(): this {
    this.sink.socket.destroy();
    return this;
  }

  private track(ok: boolean): boolean {
    if (!ok) this.needDrain = true;
    return ok;
  }
}

// A head and a body as one write. node:http writes a head and a string body
// as one utf8 string, and so does this.
function writeHeadAnd(socket: Socket, head: string, chunk: Buffer | string): boolean {
  if (typeof chunk === 'string') {
    // The head is latin1 (a header value may carry obs-text bytes), the body utf8.
    socket.cork();
    socket.write(head, 'latin1');
    const ok = socket.write(chunk);
    socket.uncork();
    return ok;
  }
  if (chunk.length <= COPY_LIMIT) {
    const headLength = head.length;
    const buf = Buffer.allocUnsafe(headLength + chunk.length);
    buf.write(head, 0, headLength, 'latin1');
    chunk.copy(buf, headLength);
    return socket.write(buf);
  }
  socket.cork();
  socket.write(head, 'latin1');
  const ok = socket.write(chunk);
  socket.uncork();
  return ok;
}

function teHeader(raw: readonly string[]): string {
  let te = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 2 && raw[i].toLowerCase() === 'te') te = te === '' ? raw[i + 1] : te + ', ' + raw[i + 1];
  }
  return te;
}
