// One keep-alive HTTP/1.1 connection of the fast instance pool: a net
// socket, its llhttp parser (../http1/llhttp.ts, reused for every response on the
// connection), and at most one request at a time (no pipelining). Socket
// and parser callbacks are bound once per connection, not per request.
//
// A response ends the connection's use when it says so (Connection: close,
// HTTP/1.0 without keep-alive), when the request asked for it (HEAD,
// Connection: close, a body on a method that expects none: as undici), when
// the response ended before the request body was sent, or when bytes came
// that belong to no request (an instance must not answer what was not asked).
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { errors } from 'undici';
import { newResponseParser, parserConstants, type HttpParser, type ParserError, type StreamHandle } from '../http1/llhttp';
import { expectsPayload } from './h1-request-head';
import { destroyBody, type H1Request, type RequestCarrier } from './h1-request';

export interface ConnectionOwner {
  // The connection finished its request and may take another.
  connectionFree(conn: H1Connection): void;
  // The socket closed: the connection is gone.
  connectionClosed(conn: H1Connection): void;
}

// undici's reading of Keep-Alive: timeout=N.
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/;
// As undici: a connection is given up this long before the server's own
// keep-alive timeout, so a request does not race the server's close.
const KEEP_ALIVE_THRESHOLD_MS = 2_000;

export class H1Connection implements RequestCarrier {
  request: H1Request | null = null;
  connected = false;
  closed = false;
  // performance.now() when it went idle.
  idleSince = 0;
  // How long it may stay idle: the pool's keep-alive, or less if the instance said so.
  keepAliveMs: number;
  readonly socket: net.Socket;
  private readonly parser: HttpParser;
  private connectTimer: NodeJS.Timeout | null;
  private error: Error | null = null;
  // The current response.
  private keepAlive = true;
  private responseDone = false;
  private headerBatch: string[] | null = null;
  // Response bytes with no request to answer.
  private stray = false;
  // Close after the current request.
  private closeAfter = false;
  private writer: StreamBodyWriter | null = null;
  private readingPaused = false;
  // The socket's stream while the parser reads it directly (as node:http's
  // server does): no 'data' event and no Buffer slice per read.
  private handle: StreamHandle | null = null;
  // Idle connections do not keep the process alive (as undici's).
  private unrefd = false;

  constructor(
    private readonly owner: ConnectionOwner,
    address: string,
    port: number,
    private readonly connectTimeoutMs: number,
    private readonly defaultKeepAliveMs: number,
  ) {
    this.keepAliveMs = defaultKeepAliveMs;
    // As undici's connector (the stream options take highWaterMark; the types omit it).
    const socket = net.connect({ host: address, port, highWaterMark: 64 * 1024 } as net.NetConnectOpts);
    this.socket = socket;
    // Same as undici's connector.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.connectTimer = connectTimeoutMs > 0 ? setTimeout(onConnectTimeout, connectTimeoutMs, this, `${address}:${port}`) : null;
    socket.once('connect', () => this.onConnect());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => this.onError(err));
    socket.once('close', () => this.onClose());

    const parser = newResponseParser();
    this.parser = parser;
    const HTTPParser = parserConstants();
    parser[HTTPParser.kOnMessageBegin] = () => this.onMessageBegin();
    parser[HTTPParser.kOnHeaders] = (raw: string[]) => this.onHeaderBatch(raw);
    parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      raw: string[] | undefined,
      _method: unknown,
      _url: unknown,
      status: number,
      statusMessage: string,
      upgrade: boolean,
      shouldKeepAlive: boolean,
    ) => this.onHeadersComplete(raw, status, statusMessage, upgrade, shouldKeepAlive);
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.onBody(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
  }

  assign(request: H1Request): void {
    if (this.unrefd) {
      this.unrefd = false;
      this.socket.ref();
    }
    this.request = request;
    request.carrier = this;
    this.closeAfter = request.reset;
    this.keepAlive = true;
    if (this.connected) this.send(request);
  }

  private onConnect(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
    this.connected = true;
    this.consume();
    const request = this.request;
    if (request !== null) this.send(request);
    else this.owner.connectionFree(this);
  }

  connectTimedOut(where: string): void {
    this.connectTimer = null;
    if (this.connected) return;
    this.kill(new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${where}, timeout: ${this.connectTimeoutMs}ms)`));
  }

  private send(request: H1Request): void {
    const body = request.body;
    const socket = this.socket;
    if (body === null) {
      socket.write(request.head, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      if (body.length > 0) {
        // One writev: head and body together.
        socket.cork();
        socket.write(request.head, 'latin1');
        socket.write(body);
        socket.uncork();
        if (!expectsPayload(request.method)) this.closeAfter = true;
      } else {
        socket.write(request.head, 'latin1');
      }
    } else {
      this.writer = new StreamBodyWriter(this, request, body);
    }
  }

  // A stream body sent bytes on a method that expects none (undici does not
  // reuse such a connection).
  bodyOnUnexpectedMethod(): void {
    this.closeAfter = true;
  }

  bodyWritten(writer: StreamBodyWriter): void {
    if (this.writer === writer) this.writer = null;
  }

  bodyFailed(writer: StreamBodyWriter, err: Error): void {
    if (this.writer !== writer) return;
    this.writer = null;
    this.kill(err);
  }

  private consume(): void {
    const handle = (this.socket as net.Socket & { _handle?: StreamHandle | null })._handle;
    const parser = this.parser;
    if (handle?.isStreamBase !== true || handle._consumed === true || typeof parser.consume !== 'function') return;
    handle._consumed = true;
    parser.consume(handle);
    parser[parserConstants().kOnExecute] = (ret: number | ParserError) => this.executed(ret);
    this.handle = handle;
  }

  // The parser went through one read of the socket (consume).
  private executed(ret: number | ParserError): void {
    if (this.closed) return;
    if (typeof ret !== 'number') {
      this.kill(parserError(ret));
      return;
    }
    if (this.stray && this.request === null && !this.responseDone) {
      // Bytes no request asked for.
      this.kill(new errors.SocketError('bad response'));
      return;
    }
    if (this.responseDone) this.afterResponse();
    // A resume the socket had scheduled may have started reading again.
    if (this.readingPaused) this.stopReading();
  }

  private stopReading(): void {
    this.socket.pause();
    const handle = this.handle;
    if (handle !== null && handle.reading === true) {
      handle.reading = false;
      handle.readStop();
    }
  }

  private startReading(): void {
    this.socket.resume();
    const handle = this.handle;
    if (handle !== null && handle.reading !== true) {
      handle.reading = true;
      handle.readStart();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.request === null && !this.responseDone) {
      // Bytes no request asked for.
      this.kill(new errors.SocketError('bad response'));
      return;
    }
    const ret = this.parser.execute(chunk);
    if (this.closed) return;
    if (typeof ret !== 'number') {
      this.kill(parserError(ret));
      return;
    }
    if (this.responseDone) this.afterResponse();
  }

  private onMessageBegin(): number {
    if (this.request === null) this.stray = true;
    return 0;
  }

  private onHeaderBatch(raw: string[]): void {
    const batch = this.headerBatch;
    if (batch === null) this.headerBatch = raw;
    else for (let i = 0; i < raw.length; i++) batch.push(raw[i]);
  }

  private onHeadersComplete(
    raw: string[] | undefined,
    status: number,
    statusMessage: string,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number {
    const request = this.request;
    let headers = raw;
    if (this.headerBatch !== null) {
      headers = raw === undefined ? this.headerBatch : this.headerBatch.concat(raw);
      this.headerBatch = null;
    }
    if (request === null || this.closed) return -1;
    if (upgrade || status === 101) {
      this.kill(new errors.SocketError('bad upgrade'));
      return -1;
    }
    // Informational answers (100 Continue, 103 Early Hints) are skipped: the
    // final response follows on the same connection.
    if (status < 200) return 0;
    this.keepAlive = shouldKeepAlive;
    request.lastActivity = performance.now();
    const list = headers ?? [];
    request.responseStart(status, list, statusMessage);
    if (this.keepAlive) this.readKeepAlive(list);
    if (this.request !== request || this.closed) return -1;
    // A HEAD response has no body, whatever its Content-Length says.
    return request.method === 'HEAD' ? 1 : 0;
  }

  private readKeepAlive(raw: string[]): void {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const m = KEEP_ALIVE_TIMEOUT.exec(raw[i + 1]);
      if (m === null) continue;
      const ms = parseInt(m[1], 10) * 1000 - KEEP_ALIVE_THRESHOLD_MS;
      if (ms <= 0) this.keepAlive = false;
      else this.keepAliveMs = Math.min(ms, this.defaultKeepAliveMs);
    }
  }

  private onBody(chunk: Buffer): void {
    const request = this.request;
    if (request === null) return;
    request.lastActivity = performance.now();
    request.data(chunk);
  }

  private onMessageComplete(): void {
    const request = this.request;
    const trailers = this.headerBatch;
    this.headerBatch = null;
    // The end of a skipped informational answer.
    if (request === null || request.status === 0) return;
    // Handed back once the parser is done with this buffer: a handler that
    // dispatches again from onResponseEnd gets another connection.
    this.request = null;
    this.responseDone = true;
    request.end(trailers);
  }

  // The response is over (the handler was told): keep the connection, or not.
  private afterResponse(): void {
    this.responseDone = false;
    if (this.readingPaused) {
      this.readingPaused = false;
      this.startReading();
    }
    const writer = this.writer;
    if (writer !== null) {
      // Answered before the request body was sent: undici drops the connection too.
      this.writer = null;
      writer.stop();
      this.closeAfter = true;
    }
    if (this.stray || !this.keepAlive || this.closeAfter || this.socket.destroyed) {
      this.kill(null);
      return;
    }
    this.keepAlive = true;
    this.owner.connectionFree(this);
  }

  private onEnd(): void {
    if (this.closed) return;
    const request = this.request;
    if (request !== null && request.status !== 0 && !this.keepAlive) {
      // A body that runs to the close of the connection ends here.
      this.finishParser();
      return;
    }
    this.kill(request !== null ? new errors.SocketError('other side closed') : null);
  }

  private finishParser(): void {
    const ret = this.parser.finish();
    if (this.closed) return;
    if (ret instanceof Error) this.kill(parserError(ret));
    else if (this.responseDone) this.afterResponse();
    else this.kill(new errors.SocketError('other side closed'));
  }

  private onError(err: Error): void {
    const request = this.request;
    // A connection reset that ends a read-until-close body, as undici reads it.
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && request !== null && request.status !== 0 && !this.keepAlive && !this.closed) {
      this.finishParser();
      return;
    }
    this.error ??= err;
  }

  private onClose(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
    this.kill(this.error ?? new errors.SocketError('closed'));
    if (this.handle !== null) {
      this.parser.unconsume?.();
      this.handle = null;
    }
    this.parser.free();
    this.owner.connectionClosed(this);
  }

  // Ends the connection; its request, if any, fails with err.
  kill(err: Error | null): void {
    const request = this.request;
    this.request = null;
    if (!this.closed) {
      this.closed = true;
      this.responseDone = false;
      const writer = this.writer;
      this.writer = null;
      writer?.stop();
      this.socket.destroy();
    }
    if (request !== null) request.fail(err ?? new errors.SocketError('closed'));
  }

  idle(now: number): void {
    this.idleSince = now;
    if (!this.unrefd) {
      this.unrefd = true;
      this.socket.unref();
    }
  }

  // Closes an idle connection.
  close(): void {
    if (this.request === null) this.kill(null);
  }

  requestAborted(request: H1Request): void {
    if (this.request !== request) return;
    this.request = null;
    // Not connected yet: nothing was sent, the connection serves the next one.
    if (!this.connected) return;
    this.kill(null);
  }

  pauseReading(): void {
    if (this.readingPaused || this.closed) return;
    this.readingPaused = true;
    this.stopReading();
  }

  resumeReading(): void {
    if (!this.readingPaused || this.closed) return;
    this.readingPaused = false;
    this.startReading();
  }
}

function onConnectTimeout(conn: H1Connection, where: string): void {
  conn.connectTimedOut(where);
}

// llhttp's error as undici reports it (HTTPParserError, code HPE_*).
function parserError(err: ParserError): Error {
  const code = typeof err.code === 'string' && err.code.startsWith('HPE_') ? err.code.slice(4) : undefined;
  // undici's constructor is (message, code, data); its types know only the message.
  const Ctor = errors.HTTPParserError as unknown as new (message: string, code: string | undefined) => Error;
  return new Ctor(`Response does not match the HTTP/1.1 protocol (${err.reason ?? err.message})`, code);
}

// A stream body, written as it comes, with backpressure both ways: the
// socket's (the body pauses until it drains) and the body's. The head goes
// out with the first bytes, framed by the Content-Length the caller gave or
// chunked; as undici's.
class StreamBodyWriter {
  private bytes = 0;
  private done = false;
  private readonly chunked: boolean;
  private readonly onData = (chunk: Buffer): void => this.write(chunk);
  private readonly onDrain = (): void => {
    if (!this.done) this.body.resume();
  };
  private readonly onEnd = (): void => this.finish();
  private readonly onError = (err: Error): void => this.fail(err);
  private readonly onClose = (): void => {
    // 'close' may come before 'error' for a broken stream: a tick later.
    if (!this.done) queueMicrotask(() => this.fail(new errors.RequestAbortedError()));
  };

  constructor(
    private readonly conn: H1Connection,
    private readonly request: H1Request,
    private readonly body: Readable,
  ) {
    this.chunked = request.declaredLength < 0 || (request.declaredLength === 0 && !expectsPayload(request.method));
    if (body.errored) {
      queueMicrotask(() => this.fail(body.errored as Error));
      return;
    }
    if (body.destroyed || body.readableAborted) {
      queueMicrotask(() => this.fail(new errors.RequestAbortedError()));
      return;
    }
    body.on('data', this.onData);
    body.on('end', this.onEnd);
    body.on('error', this.onError);
    body.on('close', this.onClose);
    conn.socket.on('drain', this.onDrain);
    if (body.readableEnded) queueMicrotask(this.onEnd);
    else body.resume();
  }

  private write(chunk: Buffer): void {
    if (this.done) return;
    const len = chunk.length;
    if (len === 0) return;
    const request = this.request;
    if (!this.chunked && this.bytes + len > request.declaredLength) {
      this.fail(new errors.RequestContentLengthMismatchError());
      return;
    }
    const socket = this.conn.socket;
    socket.cork();
    if (this.bytes === 0) {
      if (!expectsPayload(request.method)) this.conn.bodyOnUnexpectedMethod();
      socket.write(this.chunked ? `${request.head}transfer-encoding: chunked\r\n` : `${request.head}content-length: ${request.declaredLength}\r\n\r\n`, 'latin1');
    }
    if (this.chunked) socket.write(`\r\n${len.toString(16)}\r\n`, 'latin1');
    this.bytes += len;
    const ok = socket.write(chunk);
    socket.uncork();
    if (!ok) this.body.pause();
  }

  private finish(): void {
    if (this.done) return;
    const request = this.request;
    if (!this.chunked && this.bytes !== request.declaredLength) {
      this.fail(new errors.RequestContentLengthMismatchError());
      return;
    }
    const socket = this.conn.socket;
    if (this.bytes === 0) {
      socket.write(`${request.head}${expectsPayload(request.method) ? 'content-length: 0\r\n\r\n' : '\r\n'}`, 'latin1');
    } else if (this.chunked) {
      socket.write('\r\n0\r\n\r\n', 'latin1');
    }
    this.detach();
    this.conn.bodyWritten(this);
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.detach();
    destroyBody(this.body);
    this.conn.bodyFailed(this, err);
  }

  // The connection is done with it (answered early, or gone).
  stop(): void {
    if (this.done) return;
    this.detach();
    destroyBody(this.body);
  }

  private detach(): void {
    this.done = true;
    const body = this.body;
    body.off('data', this.onData);
    body.off('end', this.onEnd);
    body.off('close', this.onClose);
    // 'error' may still come after 'close' for a broken stream: kept, and ignored.
    this.conn.socket.off('drain', this.onDrain);
  }
}
