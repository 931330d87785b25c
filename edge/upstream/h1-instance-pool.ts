// A keep-alive HTTP/1.1 pool to one local instance over raw net sockets:
// the fast engine of createInstancePool (instance-pool.ts), in place of an
// undici Pool. It offers undici's dispatch API (what exchange.ts calls) and
// keeps what the pipeline observes from undici: the bytes an instance gets
// (h1-request-head.ts), the response headers object (h1-response-headers.ts),
// and the error codes upstream-error.ts classifies (UND_ERR_CONNECT_TIMEOUT,
// ECONNREFUSED, UND_ERR_SOCKET, ECONNRESET, UND_ERR_HEADERS_TIMEOUT,
// UND_ERR_BODY_TIMEOUT, UND_ERR_CLOSED, HPE_*), using undici's error classes.
// Where it differs on purpose (informational responses skipped, a 304 with a
// Content-Length not an error, trailing whitespace of header values dropped
// by Node's parser, onRequestStart at dispatch), the differential test
// (h1-instance-pool-differential.test.ts) says so. Like undici it does not
// retry a request itself: a reused connection the instance closed before
// answering fails it with UND_ERR_SOCKET (a reset the pipeline may retry).
// Unlike undici it does not wait a turn of the event loop before writing to
// a connection that was idle; a close from the instance that has arrived is
// seen before (the connection is read while idle), one in flight is that reset.
//
// Up to `connections` connections, one request on each at a time; beyond
// that requests wait in order. A request starts (onRequestStart) when it is
// dispatched, so an abort while it waits takes it out of the queue at once.
// Idle connections are reused last-in first-out (the warm ones) and closed
// after keepAliveMs idle, or sooner when the instance's Keep-Alive says so.
//
// Hot path: one H1Request per request, the head serialized once into one
// string and written with the body in one writev; no closure, promise or
// timer per request. The timeouts the options ask for (a backstop behind the
// pipeline's own per-try timer, and the body's idle gap) and idle
// connections are checked by one coarse interval per pool.
import type { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import { H1Connection, type ConnectionOwner } from './h1-connection';
import { H1Request, type RequestCarrier } from './h1-request';
import { defaultHostOf, serializeRequestHead } from './h1-request-head';
import type { UpstreamDispatcher } from './upstream-dispatcher';

export interface H1PoolOptions {
  connectTimeoutMs: number;
  // Most connections to the instance; requests queue beyond that.
  connections: number;
  // An idle connection is closed after this long (default 4 s).
  keepAliveMs?: number;
}

// How often deadlines and idle connections are looked at.
const TICK_MS = 500;

function onTick(pool: H1InstancePool): void {
  pool.tick();
}

export class H1InstancePool implements UpstreamDispatcher, ConnectionOwner, RequestCarrier {
  private readonly conns = new Set<H1Connection>();
  // Idle connections, the most recently used last.
  private readonly idle: H1Connection[] = [];
  // Waiting requests, oldest first (a linked list: no shifting).
  private queueHead: H1Request | null = null;
  private queueTail: H1Request | null = null;
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private destroyed = false;
  private closeWaiters: (() => void)[] = [];
  private readonly defaultHost: string;
  private readonly keepAliveMs: number;

  constructor(
    private readonly address: string,
    private readonly port: number,
    private readonly options: H1PoolOptions,
  ) {
    this.defaultHost = defaultHostOf(address, port);
    this.keepAliveMs = options.keepAliveMs ?? 4_000;
  }

  // Connections open (busy or idle) and requests waiting: for tests and metrics.
  get stats(): { connections: number; idle: number; queued: number } {
    return { connections: this.conns.size, idle: this.idle.length, queued: this.queued };
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const body = (options.body ?? null) as Buffer | Readable | null;
    const request = new H1Request(handler, options.method, body, options.bodyTimeout ?? 0);
    try {
      if (this.destroyed) throw new errors.ClientDestroyedError();
      if (this.closed) throw new errors.ClientClosedError();
      serializeRequestHead(request, options.method, options.path, options.headers as readonly string[] | null | undefined, body, this.defaultHost);
    } catch (err) {
      // As undici: refused before it started; the handler hears of it at once.
      request.fail(err as Error);
      return false;
    }
    request.start();
    if (request.aborted) return true;
    const headersTimeout = options.headersTimeout ?? 0;
    if (headersTimeout > 0) request.headersDeadline = performance.now() + headersTimeout;
    this.assign(request);
    return true;
  }

  private assign(request: H1Request): void {
    const idle = this.idle;
    while (idle.length > 0) {
      const conn = idle.pop()!;
      if (!conn.closed && !conn.socket.readableEnded) {
        conn.assign(request);
        return;
      }
    }
    if (this.conns.size < this.options.connections) {
      this.open().assign(request);
      return;
    }
    request.carrier = this;
    if (this.queueTail === null) this.queueHead = request;
    else this.queueTail.next = request;
    this.queueTail = request;
    this.queued++;
  }

  private open(): H1Connection {
    const conn = new H1Connection(this, this.address, this.port, this.options.connectTimeoutMs, this.keepAliveMs);
    this.conns.add(conn);
    if (this.timer === null) {
      this.timer = setInterval(onTick, TICK_MS, this);
      this.timer.unref();
    }
    return conn;
  }

  private dequeue(): H1Request | null {
    const request = this.queueHead;
    if (request === null) return null;
    this.queueHead = request.next;
    if (this.queueHead === null) this.queueTail = null;
    request.next = null;
    request.carrier = null;
    this.queued--;
    return request;
  }

  // A waiting request was aborted: out of the queue.
  requestAborted(request: H1Request): void {
    let prev: H1Request | null = null;
    for (let r = this.queueHead; r !== null; prev = r, r = r.next) {
      if (r !== request) continue;
      if (prev === null) this.queueHead = r.next;
      else prev.next = r.next;
      if (this.queueTail === r) this.queueTail = prev;
      r.next = null;
      this.queued--;
      return;
    }
  }

  pauseReading(): void {}

  resumeReading(): void {}

  connectionFree(conn: H1Connection): void {
    const next = this.dequeue();
    if (next !== null) {
      conn.assign(next);
      return;
    }
    if (this.closed) {
      conn.close();
      return;
    }
    conn.idle(performance.now());
    this.idle.push(conn);
  }

  connectionClosed(conn: H1Connection): void {
    this.conns.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // A slot is free for a waiting request.
    if (this.queueHead !== null && !this.destroyed) this.open().assign(this.dequeue()!);
    if (this.conns.size === 0) {
      if (this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
      this.resolveClose();
    }
  }

  // Deadlines of waiting and running requests; idle connections past their keep-alive.
  tick(): void {
    const now = performance.now();
    for (let r = this.queueHead; r !== null; ) {
      const next = r.next;
      if (r.headersDeadline > 0 && now >= r.headersDeadline) {
        this.requestAborted(r);
        r.fail(new errors.HeadersTimeoutError());
      }
      r = next;
    }
    for (const conn of this.conns) {
      const r = conn.request;
      if (r !== null) {
        if (r.status === 0) {
          if (r.headersDeadline > 0 && now >= r.headersDeadline) conn.kill(new errors.HeadersTimeoutError());
        } else if (r.bodyTimeout > 0 && !r.paused && now - r.lastActivity >= r.bodyTimeout) {
          conn.kill(new errors.BodyTimeoutError());
        }
      } else if (conn.connected && !conn.closed && now - conn.idleSince >= conn.keepAliveMs) {
        conn.close();
      }
    }
  }

  // Graceful: new requests are refused; waiting and running ones finish,
  // then the connections close.
  close(): Promise<void> {
    this.closed = true;
    for (const conn of this.idle.splice(0)) conn.close();
    return this.whenEmpty();
  }

  // Everything fails now (UND_ERR_DESTROYED, as undici's).
  destroy(): Promise<void> {
    this.closed = true;
    this.destroyed = true;
    const err = new errors.ClientDestroyedError();
    for (let r = this.dequeue(); r !== null; r = this.dequeue()) r.fail(err);
    for (const conn of [...this.conns]) conn.kill(err);
    return this.whenEmpty();
  }

  private whenEmpty(): Promise<void> {
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private resolveClose(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
