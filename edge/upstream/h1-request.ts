// One request through the fast HTTP/1.1 instance pool, and the controller
// its handler gets (undici's DispatchController): the one object a request
// costs. It keeps the handler's contract: onRequestStart first, then at most
// one onResponseStart, data, and exactly one of onResponseEnd or
// onResponseError. While the handler has paused it, body bytes already read
// wait here (the connection stops reading), and an end that came meanwhile
// is told after them.
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestHeadTarget } from './h1-request-head';
import { parseResponseHeaders } from './h1-response-headers';

// Where a request is: in the pool's queue, or on a connection.
export interface RequestCarrier {
  // The handler aborted it: take it out (a connection it was written to
  // cannot be reused).
  requestAborted(request: H1Request): void;
  pauseReading(): void;
  resumeReading(): void;
}

export class H1Request implements Dispatcher.DispatchController, RequestHeadTarget {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  rawHeaders: string[] | null = null;
  rawTrailers: string[] | null = null;
  // Filled by serializeRequestHead.
  head = '';
  declaredLength = -1;
  reset = false;
  // Told onResponseEnd or onResponseError.
  settled = false;
  carrier: RequestCarrier | null = null;
  // The final status once its headers came; 0 before.
  status = 0;
  // performance.now() after which no response headers is an error; 0: none.
  headersDeadline = 0;
  // performance.now() of the last body bytes (or of the headers).
  lastActivity = 0;
  // Queue link.
  next: H1Request | null = null;
  private pending: Buffer[] | null = null;
  private endPending = false;

  constructor(
    readonly handler: Dispatcher.DispatchHandler,
    readonly method: string,
    readonly body: Buffer | Readable | null,
    // Longest gap between body bytes (ms); 0: none.
    readonly bodyTimeout: number,
  ) {}

  start(): void {
    try {
      this.handler.onRequestStart?.(this, undefined as unknown as object);
    } catch (err) {
      this.abort(err as Error);
    }
  }

  // The final response's head.
  responseStart(status: number, raw: string[], statusMessage: string): void {
    this.status = status;
    this.rawHeaders = raw;
    try {
      this.handler.onResponseStart?.(this, status, parseResponseHeaders(raw), statusMessage);
    } catch (err) {
      this.abort(err as Error);
    }
  }

  data(chunk: Buffer): void {
    if (this.settled) return;
    if (this.paused || this.pending !== null) {
      (this.pending ??= []).push(chunk);
      return;
    }
    try {
      this.handler.onResponseData?.(this, chunk);
    } catch (err) {
      this.abort(err as Error);
    }
  }

  end(rawTrailers: string[] | null): void {
    if (this.settled) return;
    this.rawTrailers = rawTrailers ?? [];
    this.carrier = null;
    if (this.pending !== null) {
      this.endPending = true;
      return;
    }
    this.settled = true;
    this.handler.onResponseEnd?.(this, rawTrailers === null ? {} : (parseResponseHeaders(rawTrailers) as IncomingHttpHeaders));
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.carrier = null;
    this.pending = null;
    this.handler.onResponseError?.(this, err);
  }

  abort(reason: Error): void {
    if (this.settled || this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const carrier = this.carrier;
    this.carrier = null;
    carrier?.requestAborted(this);
    // As undici: the body stream goes with the request.
    if (this.body instanceof Readable) destroyBody(this.body);
    // As undici: the handler hears of it at once, inside abort().
    this.fail(reason);
  }

  pause(): void {
    if (this.paused || this.settled) return;
    this.paused = true;
    this.carrier?.pauseReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const pending = this.pending;
    if (pending !== null) {
      while (pending.length > 0) {
        if (this.settled) return;
        const chunk = pending.shift()!;
        try {
          this.handler.onResponseData?.(this, chunk);
        } catch (err) {
          this.abort(err as Error);
          return;
        }
        if (this.paused) return;
      }
      this.pending = null;
      if (this.endPending && !this.settled) {
        this.endPending = false;
        this.end(this.rawTrailers!.length === 0 ? null : this.rawTrailers);
        return;
      }
    }
    this.carrier?.resumeReading();
  }
}

// A request body given up on, as undici ends it: a client's request
// (IncomingMessage) is let go of its socket first, so destroying it does not
// take the client's connection (where its response still goes) with it.
export function destroyBody(body: Readable): void {
  if (body.destroyed) return;
  if (Object.getPrototypeOf(body).constructor === IncomingMessage) (body as unknown as { socket: unknown }).socket = null;
  body.destroy();
}
