// One client connection of the fast HTTP/1.1 path: node's parser fed from
// the socket, requests answered in order (one at a time; a pipelined request
// waits, parsed, while reading from the socket pauses), the body of a request
// whose response ended unread parsed and dropped so the connection can go on,
// keep-alive or close as node:http decides it. Timeouts are checked by the
// listener's sweep (http1-listener.ts) from the times kept here. Anything
// this path does not serve is handed, with the bytes it read put back, to
// node's own HTTP/1.1 handling: a protocol upgrade (WebSocket, h2c, CONNECT),
// once no request of this connection is in flight.
import type { Socket } from 'node:net';
import { FastRequest, MAX_HEADER_PAIRS, type BodySource } from './fast-request';
import { FastResponse, type ResponseSink } from './fast-response';
import { llhttp, newRequestParser, parserConstants, type ParserError, type HttpParser, type StreamHandle } from '../../http1/llhttp';

// What a connection needs from its listener.
export interface ConnectionSettings {
  readonly maxHeaderSize: number;
  keepAliveTimeoutMs(): number;
  onRequest(req: FastRequest, res: FastResponse): void;
  // node:http's 'clientError' handling (client-errors.ts).
  onClientError(err: Error & { code?: string }, socket: Socket): void;
  // Gives the socket to node's own HTTP/1.1 connection handling.
  handOver(socket: Socket): void;
  connectionClosed(conn: Http1Connection): void;
}

const kConnection = Symbol('meridian.http1Connection');
type ConnSocket = Socket & { [kConnection]?: Http1Connection; _httpMessage?: FastResponse | null };
type ConnParser = HttpParser & { conn: Http1Connection };
const RE_CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export class Http1Connection implements BodySource, ResponseSink {
  readonly socket: ConnSocket;
  keepAliveHeader = '';
  // A message is being received (from its first byte to its last), since
  // messageStart (ms); headersDone once its head was parsed.
  receiving = true;
  messageStart: number;
  headersDone = false;
  // No message being received and no response owed, since idleSince (ms); 0: busy.
  idleSince = 0;
  private readonly settings: ConnectionSettings;
  private readonly methods: readonly string[] = llhttp().methods;
  private parser: ConnParser;
  // Responses owed, in order; the first is being answered.
  private readonly queue: FastResponse[] = [];
  // The request whose body is being received.
  private current: FastRequest | null = null;
  // Header fields and target delivered in pieces (more than 32 fields, a
  // head split across reads, trailers).
  private pendingHeaders: string[] = [];
  private pendingUrl = '';
  private bodyPaused = false;
  private queuePaused = false;
  // The connection ends after the response in progress.
  private closing = false;
  private closed = false;
  private socketErrored = false;
  // A protocol upgrade: its head rebuilt, then the bytes read after it.
  private upgradeHead: string | null = null;
  private upgradeRest: Buffer | null = null;
  // The socket's stream while the parser reads it directly (as node:http
  // does): no 'data' event, no Buffer slice per read. Bytes put back into
  // the socket (the h2c sniff's) still come as 'data'.
  private handle: StreamHandle | null = null;

  constructor(settings: ConnectionSettings, socket: Socket, now: number) {
    this.settings = settings;
    this.socket = socket as ConnSocket;
    this.messageStart = now;
    this.updateKeepAlive();
    const parser = newRequestParser(settings.maxHeaderSize) as ConnParser;
    const P = parserConstants();
    parser.conn = this;
    parser[P.kOnMessageBegin] = onMessageBegin;
    parser[P.kOnHeaders] = onHeaders;
    parser[P.kOnHeadersComplete] = onHeadersComplete;
    parser[P.kOnBody] = onBody;
    parser[P.kOnMessageComplete] = onMessageComplete;
    this.parser = parser;
    const handle = (socket as Socket & { _handle?: StreamHandle | null })._handle;
    if (handle?.isStreamBase === true && handle._consumed !== true && typeof parser.consume === 'function') {
      handle._consumed = true;
      parser.consume(handle);
      parser[P.kOnExecute] = onExecute;
      this.handle = handle;
    }
    this.socket[kConnection] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
  }

  private updateKeepAlive(): void {
    const ms = this.settings.keepAliveTimeoutMs();
    this.keepAliveHeader = ms > 0 ? `Keep-Alive: timeout=${Math.floor(ms / 1000)}\r\n` : '';
  }

  // --- parser events ---

  messageBegin(): void {
    this.receiving = true;
    this.headersDone = false;
    this.messageStart = Date.now();
    this.idleSince = 0;
  }

  headers(headers: string[], url: string): void {
    if (this.pendingHeaders.length < MAX_HEADER_PAIRS) {
      for (let i = 0; i < headers.length; i++) this.pendingHeaders.push(headers[i]);
    }
    this.pendingUrl += url;
  }

  headersComplete(major: number, minor: number, raw: string[] | undefined, method: number, url: string | undefined, upgrade: boolean, keepAlive: boolean): number {
    this.headersDone = true;
    // Closing (or handing over): whatever the parser still reads is dropped.
    if (this.closing || this.closed) return 0;
    if (raw === undefined) {
      raw = this.pendingHeaders;
      this.pendingHeaders = [];
    }
    if (!url) {
      url = this.pendingUrl;
      this.pendingUrl = '';
    }
    const methodName = this.methods[method];
    if (upgrade) {
      // Served by node's HTTP/1.1 handling: stop parsing after this head.
      this.receiving = false;
      this.upgradeHead = rebuildHead(methodName, url, major, minor, raw);
      return 2;
    }
    const req = new FastRequest(this, this.socket, methodName, url, raw, major, minor);
    const res = new FastResponse(this, req, keepAlive);
    this.current = req;
    this.queue.push(res);
    if (this.queue.length === 1) this.dispatch(res);
    else this.pauseForQueue();
    return 0;
  }

  body(chunk: Buffer): void {
    this.current?.pushBody(chunk);
  }

  messageComplete(): void {
    this.receiving = false;
    const req = this.current;
    let trailers: string[] | null = null;
    if (this.pendingHeaders.length > 0) {
      trailers = this.pendingHeaders;
      this.pendingHeaders = [];
      this.pendingUrl = '';
    }
    if (req !== null) {
      this.current = null;
      req.completeBody(trailers);
    }
    if (this.queue.length === 0) this.idleSince = Date.now();
  }

  // --- requests and responses ---

  private dispatch(res: FastResponse): void {
    const req = res.req;
    this.socket._httpMessage = res;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
      // node:http's checks of an HTTP/1.1 request (requireHostHeader, Expect).
      const raw = req.rawHeaders;
      const n = Math.min(raw.length, MAX_HEADER_PAIRS);
      let host = false;
      let expect: string | undefined;
      for (let i = 0; i < n; i += 2) {
        const l = raw[i].length;
        if (l === 4 && !host) {
          if (raw[i].toLowerCase() === 'host') host = true;
        } else if (l === 6 && raw[i].toLowerCase() === 'expect') {
          expect = expect === undefined ? raw[i + 1] : `${expect}, ${raw[i + 1]}`;
        }
      }
      if (!host) {
        res.writeHead(400, { Connection: 'close' });
        res.end();
        return;
      }
      if (expect !== undefined) {
        if (!RE_CONTINUE.test(expect)) {
          res.writeHead(417);
          res.end();
          return;
        }
        if (this.socket.writable) this.socket.write(CONTINUE, 'latin1');
      }
    }
    this.settings.onRequest(req, res);
  }

  responseEnded(res: FastResponse): void {
    if (this.queue[0] !== res) return;
    this.queue.shift();
    this.socket._httpMessage = null;
    const req = res.req;
    if (!req.complete) {
      // The rest of its body is read and dropped.
      req.dumped = true;
      if (this.bodyPaused) this.readStart();
    }
    if (res.last) {
      this.closing = true;
      this.dropQueue();
      this.socket.destroySoon();
      return;
    }
    if (this.queue.length > 0) {
      process.nextTick(dispatchNext, this);
      return;
    }
    if (this.queuePaused) {
      this.queuePaused = false;
      this.updateFlow();
    }
    if (this.upgradeHead !== null) {
      if (this.upgradeRest !== null) this.handOver();
      return;
    }
    if (!this.receiving) this.idleSince = Date.now();
  }

  next(): void {
    if (this.closed || this.closing) return;
    const res = this.queue[0];
    if (res === undefined) return;
    if (this.queue.length === 1 && this.queuePaused) {
      this.queuePaused = false;
      this.updateFlow();
    }
    this.dispatch(res);
  }

  private pauseForQueue(): void {
    this.queuePaused = true;
    this.updateFlow();
  }

  readStart(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.updateFlow();
  }

  readStop(): void {
    // Even when already paused: a resume the socket had scheduled may have
    // started reading again.
    this.bodyPaused = true;
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.closed) return;
    const handle = this.handle;
    if (this.bodyPaused || this.queuePaused || this.upgradeHead !== null) {
      this.socket.pause();
      if (handle !== null && handle.reading === true) {
        handle.reading = false;
        handle.readStop();
      }
    } else {
      this.socket.resume();
      if (handle !== null && handle.reading !== true) {
        handle.reading = true;
        handle.readStart();
      }
    }
  }

  private stopConsuming(): void {
    if (this.handle === null) return;
    this.parser.unconsume!();
    this.handle._consumed = false;
    this.handle = null;
  }

  // Requests not answered yet are dropped (the connection is closing).
  private dropQueue(): void {
    for (const res of this.queue) abortRequest(res.req);
    this.queue.length = 0;
  }

  // --- socket events ---

  data(chunk: Buffer): void {
    if (this.closing || this.upgradeHead !== null) return;
    this.executed(this.parser.execute(chunk), chunk);
  }

  // After the parser read `chunk` (from 'data'), or what it read itself
  // from the socket (chunk null).
  executed(ret: number | ParserError, chunk: Buffer | null): void {
    if (typeof ret !== 'number') {
      this.clientError(ret);
      return;
    }
    // Paused, yet the socket read: a resume it had scheduled (stream.resume()
    // reads once more on the next tick) started its reading again.
    if ((this.bodyPaused || this.queuePaused) && this.handle !== null && this.handle.reading === true) this.updateFlow();
    if (this.upgradeHead !== null && this.upgradeRest === null) {
      this.upgradeRest = (chunk ?? this.parser.getCurrentBuffer!()).subarray(ret);
      this.stopConsuming();
      this.updateFlow();
      if (this.queue.length === 0) this.handOver();
    }
  }

  // The client closed its side: what it sent must be whole, and nothing more
  // is answered (node:http without httpAllowHalfOpen).
  end(): void {
    if (this.upgradeHead !== null) return;
    const err = this.parser.finish();
    if (err !== undefined && typeof err === 'object') {
      this.clientError(err);
      return;
    }
    const current = this.current;
    if (current !== null) abortRequest(current);
    for (const res of this.queue) abortRequest(res.req);
    if (this.socket.writable) this.socket.end();
  }

  error(err: Error): void {
    if (this.socketErrored) return;
    this.socketErrored = true;
    this.clientError(err);
  }

  private clientError(err: ParserError | Error): void {
    this.receiving = false;
    this.settings.onClientError(err, this.socket);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket._httpMessage = null;
    this.socket[kConnection] = undefined;
    const current = this.current;
    this.current = null;
    if (current !== null) abortRequest(current);
    const queue = this.queue.splice(0);
    for (const res of queue) abortRequest(res.req);
    const head = queue[0];
    if (head !== undefined && !head.writableEnded) head.emit('close');
    this.settings.connectionClosed(this);
    this.stopConsuming();
    setImmediate(closeParser, this.parser);
  }

  drain(): void {
    const res = this.queue[0];
    if (res !== undefined && res.needDrain) {
      res.needDrain = false;
      res.emit('drain');
    }
  }

  // --- the listener's sweep ---

  // headersTimeoutMs, requestTimeoutMs as node's connectionsCheckingInterval
  // applies them: to a message being received, from its first byte.
  check(now: number, headersTimeoutMs: number, requestTimeoutMs: number, keepAliveTimeoutMs: number): void {
    if (this.closed || this.upgradeHead !== null) return;
    if (this.receiving) {
      const elapsed = now - this.messageStart;
      if ((!this.headersDone && headersTimeoutMs > 0 && elapsed > headersTimeoutMs) || (requestTimeoutMs > 0 && elapsed > requestTimeoutMs)) {
        const err = new Error('Request timeout') as Error & { code: string };
        err.code = 'ERR_HTTP_REQUEST_TIMEOUT';
        this.clientError(err);
      }
    } else if (this.idleSince > 0 && keepAliveTimeoutMs > 0 && now - this.idleSince > keepAliveTimeoutMs && this.queue.length === 0) {
      this.socket.destroy();
    }
  }

  // Closes the connection if nothing is in progress on it (server.close()).
  closeIfIdle(): void {
    if (this.queue.length === 0 && !this.receiving) this.socket.destroy();
  }

  // --- hand-over to node:http ---

  private handOver(): void {
    const socket = this.socket;
    const bytes = Buffer.concat([Buffer.from(this.upgradeHead!, 'latin1'), this.upgradeRest!]);
    this.stopConsuming();
    socket.removeListener('data', onSocketData);
    socket.removeListener('end', onSocketEnd);
    socket.removeListener('error', onSocketError);
    socket.removeListener('close', onSocketClose);
    socket.removeListener('drain', onSocketDrain);
    this.closed = true;
    socket._httpMessage = null;
    socket[kConnection] = undefined;
    this.settings.connectionClosed(this);
    setImmediate(closeParser, this.parser);
    socket.pause();
    socket.unshift(bytes);
    this.settings.handOver(socket);
    socket.resume();
  }
}

// The request head as the parser read it (node's parser trims only the
// whitespace around values, which a second parse ignores too).
function rebuildHead(method: string, url: string, major: number, minor: number, raw: readonly string[]): string {
  let head = `${method} ${url} HTTP/${major}.${minor}\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return head + '\r\n';
}

function abortRequest(req: FastRequest): void {
  if (req.complete || req.destroyed) return;
  const err = new Error('aborted') as Error & { code: string };
  err.code = 'ECONNRESET';
  req.destroy(err);
}

function closeParser(parser: ConnParser): void {
  parser.close();
}

function dispatchNext(conn: Http1Connection): void {
  conn.next();
}

// Parser callbacks (this: the parser), shared by every connection.
function onMessageBegin(this: ConnParser): void {
  this.conn.messageBegin();
}
function onHeaders(this: ConnParser, headers: string[], url: string): void {
  this.conn.headers(headers, url);
}
function onHeadersComplete(
  this: ConnParser,
  major: number,
  minor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  _status: unknown,
  _statusMessage: unknown,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  return this.conn.headersComplete(major, minor, headers, method, url, upgrade, keepAlive);
}
function onBody(this: ConnParser, chunk: Buffer): void {
  this.conn.body(chunk);
}
function onMessageComplete(this: ConnParser): void {
  this.conn.messageComplete();
}
function onExecute(this: ConnParser, ret: number | ParserError): void {
  this.conn.executed(ret, null);
}

// Socket listeners (this: the socket), shared by every connection.
function onSocketData(this: ConnSocket, chunk: Buffer): void {
  this[kConnection]?.data(chunk);
}
function onSocketEnd(this: ConnSocket): void {
  this[kConnection]?.end();
}
function onSocketError(this: ConnSocket, err: Error): void {
  const conn = this[kConnection];
  if (conn !== undefined) conn.error(err);
  else this.destroy();
}
function onSocketClose(this: ConnSocket): void {
  this[kConnection]?.close();
}
function onSocketDrain(this: ConnSocket): void {
  this[kConnection]?.drain();
}
