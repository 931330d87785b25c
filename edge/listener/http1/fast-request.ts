// One HTTP/1.1 request of the fast path, as the pipeline reads it: method,
// target, raw headers, version and socket, and its body as a Readable (for
// request-body.ts, or passed on whole as an upload stream). The body bytes
// are pushed by the connection as the parser yields them; a full buffer
// stops reading from the socket until the consumer reads again, as
// node:http's IncomingMessage does. A request without a body never has its
// end pushed unless someone reads it, so a plain GET costs no stream events.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { headerObject } from './header-object';

// node:http's cap on the header fields kept per request.
export const MAX_HEADER_PAIRS = 2000;

// What the request needs from its connection.
export interface BodySource {
  // The consumer wants more body: read from the socket again.
  readStart(): void;
  // The consumer is full: stop reading from the socket.
  readStop(): void;
}

export class FastRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly httpVersion: string;
  readonly socket: Socket;
  // The whole request (body and trailers) was received.
  complete = false;
  // The connection closed before the request was received whole.
  aborted = false;
  rawTrailers: string[] = [];
  // Body bytes that arrive after the response ended are dropped.
  dumped = false;
  readonly upgrade = false;
  private headerCache: IncomingHttpHeaders | undefined = undefined;
  private trailerCache: IncomingHttpHeaders | undefined = undefined;
  private readRequested = false;
  private readonly source: BodySource;

  constructor(source: BodySource, socket: Socket, method: string, url: string, rawHeaders: string[], major: number, minor: number) {
    super();
    this.source = source;
    this.socket = socket;
    this.method = method;
    this.url = url;
    this.rawHeaders = rawHeaders;
    this.httpVersionMajor = major;
    this.httpVersionMinor = minor;
    this.httpVersion = major === 1 ? (minor === 1 ? '1.1' : minor === 0 ? '1.0' : `1.${minor}`) : `${major}.${minor}`;
  }

  get headers(): IncomingHttpHeaders {
    this.headerCache ??= headerObject(this.rawHeaders, Math.min(this.rawHeaders.length, MAX_HEADER_PAIRS));
    return this.headerCache;
  }

  get trailers(): IncomingHttpHeaders {
    this.trailerCache ??= headerObject(this.rawTrailers);
    return this.trailerCache;
  }

  // From the parser: a piece of the body.
  pushBody(chunk: Buffer): void {
    if (this.dumped || this.destroyed) return;
    if (!this.push(chunk)) this.source.readStop();
  }

  // From the parser: the request was received whole.
  completeBody(trailers: string[] | null): void {
    this.complete = true;
    if (trailers !== null) this.rawTrailers = trailers;
    if (this.readRequested && !this.destroyed) this.push(null);
  }

  override _read(): void {
    if (!this.readRequested) {
      this.readRequested = true;
      if (this.complete) {
        this.push(null);
        return;
      }
    }
    this.source.readStart();
  }

  // As IncomingMessage: a request cut short says 'aborted'; an error is
  // emitted only to a listener (none means nobody reads the body any more).
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.complete && !this.aborted) {
      this.aborted = true;
      this.emit('aborted');
    }
    cb(err !== null && this.listenerCount('error') > 0 ? err : null);
  }
}
