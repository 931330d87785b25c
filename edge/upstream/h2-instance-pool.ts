// HTTP/2 to one origin over node:http2: a local instance that speaks h2c
// (gRPC servers inside a region, Service ports with protocol grpc or http2),
// or a remote ingress that takes gRPC over prior-knowledge h2c. undici's Pool
// speaks HTTP/2 only over TLS, hence this module.
//
// It offers undici's dispatch API (what exchange.ts calls), so the pipeline
// does not know which pool it talks to. A small pool of sessions: streams go
// to the session with the fewest open ones; another session opens when every
// session has STREAMS_PER_SESSION streams, up to maxSessions. Requests wait
// for their session's handshake, so a refused connection fails them with the
// connect error (retried elsewhere as a connect failure).
//
// Trailers pass both ways: response trailers (grpc-status, grpc-message)
// come out of onResponseEnd; a request body that is a client request has its
// trailers sent after its last byte. A trailers-only response (a gRPC error
// with no message: one HEADERS frame that ends the stream) is split into
// headers (its content type) and trailers (the rest): the client-side
// response writes its headers before it knows the stream has ended, and a
// gRPC client reads the status only from trailers once headers came without
// END_STREAM.
import * as http2 from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamDispatcher } from './upstream-dispatcher';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM } = http2.constants;

// Soft limit of streams on one session before another session is opened.
const STREAMS_PER_SESSION = 100;

export interface H2PoolOptions {
  connectTimeoutMs: number;
  // Most sessions to the origin (default 4).
  maxSessions?: number;
  // An idle session (no stream) is closed after this long (default 60 s).
  idleTimeoutMs?: number;
  // TLS (h2 by ALPN) instead of h2c: client certificate and trusted CA.
  tls?: { cert: Buffer; key: Buffer; ca: Buffer };
}

// Errors carry the codes upstream-error.ts classifies (as undici's do).
class UpstreamError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

class PooledSession {
  ready = false;
  closed = false;
  streams = 0;
  error: Error | undefined = undefined;
  readonly waiting: H2Attempt[] = [];
  constructor(readonly session: http2.ClientHttp2Session) {}

  limit(): number {
    const peer = this.ready ? this.session.remoteSettings.maxConcurrentStreams : undefined;
    return peer === undefined ? STREAMS_PER_SESSION : Math.min(peer, STREAMS_PER_SESSION);
  }
}

// One request on one stream; also the controller the handler gets.
class H2Attempt implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  private settled = false;
  private stream: http2.ClientHttp2Stream | null = null;
  private trailers: IncomingHttpHeaders | null = null;
  private timer: NodeJS.Timeout | null = null;
  private streamError: Error | undefined = undefined;

  constructor(
    private readonly options: Dispatcher.DispatchOptions,
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly scheme: string,
    private readonly authority: string,
  ) {
    const ms = options.headersTimeout ?? 0;
    if (ms > 0) this.timer = setTimeout(onHeadersTimeout, ms, this);
  }

  begin(): void {
    this.handler.onRequestStart?.(this, null);
  }

  get finished(): boolean {
    return this.settled || this.aborted;
  }

  start(s: PooledSession): void {
    if (this.finished) return;
    const o = this.options;
    const body = o.body ?? null;
    const streamed = body instanceof Readable;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = s.session.request(this.requestHeaders(), { endStream: body === null, waitForTrailers: streamed });
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.stream = stream;
    if (s.streams++ === 0) s.session.ref();
    stream.once('close', () => {
      if (--s.streams === 0) s.session.unref();
      if (!this.finished) this.fail(this.streamError ?? new UpstreamError(`HTTP/2 stream reset by the upstream (code ${stream.rstCode})`, 'UND_ERR_SOCKET'));
    });
    stream.on('error', (err: Error) => (this.streamError = err));
    stream.once('response', (headers, flags) => this.onResponse(headers, flags));
    stream.on('data', (chunk: Buffer) => {
      if (!this.finished) this.handler.onResponseData?.(this, chunk);
    });
    stream.once('trailers', (trailers: IncomingHttpHeaders) => (this.trailers = trailers));
    stream.once('end', () => {
      if (this.finished) return;
      this.settle();
      this.handler.onResponseEnd?.(this, this.trailers ?? {});
    });
    if (this.paused) stream.pause();

    if (streamed) {
      stream.once('wantTrailers', () => stream.sendTrailers(requestTrailers(body)));
      body.once('error', (err: Error) => this.fail(err));
      body.pipe(stream);
    } else if (body !== null) {
      stream.end(body as Buffer | string);
    }
  }

  private onResponse(headers: IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void {
    if (this.finished) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const status = Number(headers[':status']);
    delete headers[':status'];
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0 && headers['grpc-status'] !== undefined) {
      // Trailers-only: all of it is trailing metadata but the content type.
      const trailers: IncomingHttpHeaders = {};
      for (const name in headers) {
        if (name === 'content-type') continue;
        trailers[name] = headers[name];
        delete headers[name];
      }
      this.trailers = trailers;
    }
    const idle = this.options.bodyTimeout ?? 0;
    if (idle > 0) this.stream!.setTimeout(idle, () => this.fail(new UpstreamError(`no response data for ${idle} ms`, 'UND_ERR_BODY_TIMEOUT')));
    this.handler.onResponseStart?.(this, status, headers);
  }

  private requestHeaders(): OutgoingHttpHeaders {
    const o = this.options;
    const out: OutgoingHttpHeaders = { ':method': o.method, ':path': o.path, ':scheme': this.scheme };
    const add = (rawName: string, value: string) => {
      const name = rawName.toLowerCase();
      if (name === 'host') {
        out[':authority'] ??= value;
        return;
      }
      const prev = out[name];
      if (prev === undefined) out[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[name] = [String(prev), value];
    };
    const h = o.headers;
    if (Array.isArray(h)) {
      for (let i = 0; i < h.length; i += 2) add(h[i], h[i + 1]);
    } else if (h != null) {
      for (const [name, value] of Object.entries(h as Record<string, string | string[] | undefined>)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) add(name, v);
        else add(name, value);
      }
    }
    out[':authority'] ??= this.authority;
    return out;
  }

  private settle(): void {
    this.settled = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // The try failed: the stream is cancelled and the handler told, once.
  fail(err: Error): void {
    if (this.settled) return;
    this.settle();
    const stream = this.stream;
    if (stream !== null && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    this.handler.onResponseError?.(this, err);
  }

  abort(reason: Error): void {
    if (this.finished) return;
    this.aborted = true;
    this.reason = reason;
    const stream = this.stream;
    if (stream !== null && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    // As undici does: the handler hears of it after the caller's own step.
    process.nextTick(failAborted, this, reason);
  }

  failAborted(reason: Error): void {
    if (this.settled) return;
    this.settle();
    this.handler.onResponseError?.(this, reason);
  }

  pause(): void {
    this.paused = true;
    this.stream?.pause();
  }

  resume(): void {
    this.paused = false;
    this.stream?.resume();
  }
}

function onHeadersTimeout(attempt: H2Attempt): void {
  attempt.fail(new UpstreamError('no response headers within the per-try timeout', 'UND_ERR_HEADERS_TIMEOUT'));
}

function failAborted(attempt: H2Attempt, reason: Error): void {
  attempt.failAborted(reason);
}

// The trailers of a client request being passed on as the body.
function requestTrailers(body: Readable): OutgoingHttpHeaders {
  const trailers = (body as { trailers?: Record<string, string | string[] | undefined> }).trailers;
  const out: OutgoingHttpHeaders = {};
  if (trailers !== undefined) for (const name in trailers) if (name.charCodeAt(0) !== 58 /* : */) out[name] = trailers[name];
  return out;
}

export class H2InstancePool implements UpstreamDispatcher {
  private readonly sessions: PooledSession[] = [];
  private readonly origin: string;
  private readonly scheme: string;
  private readonly authority: string;
  private closed = false;

  constructor(
    address: string,
    port: number,
    private readonly options: H2PoolOptions,
  ) {
    this.authority = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    this.scheme = options.tls ? 'https' : 'http';
    this.origin = `${this.scheme}://${this.authority}`;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const attempt = new H2Attempt(options, handler, this.scheme, this.authority);
    attempt.begin();
    if (attempt.finished) return true;
    if (this.closed) {
      attempt.fail(new UpstreamError('the HTTP/2 pool is closed', 'UND_ERR_CLOSED'));
      return true;
    }
    const s = this.pick();
    if (s.ready) attempt.start(s);
    else s.waiting.push(attempt);
    return true;
  }

  // The open session with the fewest streams, or a new one when all are full.
  private pick(): PooledSession {
    let best: PooledSession | undefined;
    for (const s of this.sessions) {
      if (s.closed || s.session.closed || s.session.destroyed) continue;
      if (best === undefined || s.streams + s.waiting.length < best.streams + best.waiting.length) best = s;
    }
    if (best !== undefined && (best.streams + best.waiting.length < best.limit() || this.sessions.length >= (this.options.maxSessions ?? 4))) return best;
    return this.connect();
  }

  private connect(): PooledSession {
    const tls = this.options.tls;
    const session = http2.connect(this.origin, {
      settings: { enablePush: false },
      ...(tls ? { cert: tls.cert, key: tls.key, ca: tls.ca, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined } : {}),
    });
    const s = new PooledSession(session);
    this.sessions.push(s);
    const ms = this.options.connectTimeoutMs;
    const timer = setTimeout(() => session.destroy(new UpstreamError(`connect timed out after ${ms} ms`, 'UND_ERR_CONNECT_TIMEOUT')), ms);
    session.once('connect', () => {
      clearTimeout(timer);
      s.ready = true;
      const waiting = s.waiting.splice(0);
      for (const a of waiting) a.start(s);
      if (s.streams === 0) session.unref();
    });
    session.on('error', (err: Error) => (s.error = err));
    session.once('goaway', () => (s.closed = true));
    session.once('close', () => {
      clearTimeout(timer);
      s.closed = true;
      const i = this.sessions.indexOf(s);
      if (i >= 0) this.sessions.splice(i, 1);
      const err = s.error ?? new UpstreamError('HTTP/2 session closed', 'UND_ERR_SOCKET');
      for (const a of s.waiting.splice(0)) a.fail(err);
    });
    session.setTimeout(this.options.idleTimeoutMs ?? 60_000, () => {
      if (s.streams === 0 && s.waiting.length === 0) session.close();
    });
    return s;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.all(this.sessions.map((s) => new Promise<void>((resolve) => s.session.close(resolve)))).then(() => undefined);
  }

  destroy(): Promise<void> {
    this.closed = true;
    for (const s of [...this.sessions]) s.session.destroy();
    return Promise.resolve();
  }
}
