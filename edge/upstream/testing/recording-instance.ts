// An instance for the HTTP/1.1 pool tests: a raw TCP server on 127.0.0.1
// that records the exact bytes of every request and answers each from a
// script, byte for byte (malformed answers included). Requests are told
// apart with a request parser (the clients under test never pipeline).
import * as net from 'node:net';

const { HTTPParser } = require('_http_common') as {
  HTTPParser: {
    new (): {
      initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
      execute(buf: Buffer): number | Error;
      free(): void;
      [k: number]: unknown;
    };
    REQUEST: number;
    kOnHeadersComplete: number;
    kOnMessageComplete: number;
    kLenientNone: number;
  };
};

export interface RecordedRequest {
  // Index of the connection it came on (0, 1, ...).
  connection: number;
  method: string;
  url: string;
  // Every byte of it: head, framing and body.
  raw: Buffer;
}

// What the instance does with a request: bytes to send (then keep the
// connection), bytes then close, close at once, or nothing (hang).
export type Reply =
  | string
  | Buffer
  | { send: (string | Buffer)[]; close?: boolean; delayMs?: number; reset?: boolean; dribble?: boolean }
  | 'close'
  | 'reset'
  | 'hang';

export type Script = (request: RecordedRequest, index: number) => Reply;

export class RecordingInstance {
  readonly requests: RecordedRequest[] = [];
  connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  port = 0;

  constructor(
    public script: Script,
    readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<this> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, this.host, resolve));
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  // Closes every open connection (as an instance restarting would).
  closeAll(): void {
    for (const s of this.sockets) s.end();
  }

  private accept(socket: net.Socket): void {
    const connection = this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {}, 64 * 1024, HTTPParser.kLenientNone);
    let chunks: Buffer[] = [];
    let method = '';
    let url = '';
    let complete = false;
    parser[HTTPParser.kOnHeadersComplete] = (_ma: number, _mi: number, _h: unknown, m: number, u: string) => {
      method = (require('node:http') as typeof import('node:http')).METHODS[m];
      url = u;
      return 0;
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      complete = true;
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const ret = parser.execute(chunk);
      if (typeof ret !== 'number') {
        socket.destroy();
        return;
      }
      if (!complete) return;
      complete = false;
      const request = { connection, method, url, raw: Buffer.concat(chunks) };
      chunks = [];
      const index = this.requests.push(request) - 1;
      this.answer(socket, this.script(request, index));
    });
    socket.on('close', () => parser.free());
  }

  private answer(socket: net.Socket, reply: Reply): void {
    if (reply === 'hang') return;
    if (reply === 'close') {
      socket.end();
      return;
    }
    if (reply === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    if (typeof reply === 'string' || Buffer.isBuffer(reply)) {
      socket.write(reply);
      return;
    }
    const finish = () => {
      if (reply.reset) socket.resetAndDestroy();
      else if (reply.close) socket.end();
    };
    const send = () => {
      if (!reply.dribble) {
        for (const part of reply.send) socket.write(part);
        return finish();
      }
      // One byte at a time, each in its own segment: every parser state
      // sees a read boundary.
      const bytes = Buffer.concat(reply.send.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
      let i = 0;
      const next = () => {
        if (socket.destroyed) return;
        if (i >= bytes.length) return finish();
        socket.write(bytes.subarray(i, ++i));
        setTimeout(next, 1);
      };
      next();
    };
    if (reply.delayMs !== undefined) setTimeout(send, reply.delayMs);
    else send();
  }
}

// What a handler saw of one dispatch.
export interface Observed {
  started: boolean;
  heads: { status: number; headers: Record<string, unknown>; message: string | undefined }[];
  body: Buffer;
  trailers: Record<string, unknown> | null;
  error: Error | null;
  // onResponseEnd and onResponseError calls together (must be 1).
  settlements: number;
}

export interface DispatcherLike {
  dispatch(options: object, handler: object): boolean;
}

// Dispatches one request and resolves with what its handler saw once it
// ended or failed.
export function observe(pool: DispatcherLike, options: object): Promise<Observed> {
  return new Promise((resolve) => {
    const seen: Observed = { started: false, heads: [], body: Buffer.alloc(0), trailers: null, error: null, settlements: 0 };
    const chunks: Buffer[] = [];
    const settle = () => {
      seen.settlements++;
      seen.body = Buffer.concat(chunks);
      // A second settlement would show in the count: resolve on a later turn.
      setImmediate(() => resolve(seen));
    };
    pool.dispatch(options, {
      onRequestStart() {
        seen.started = true;
      },
      onResponseStart(_c: unknown, status: number, headers: Record<string, unknown>, message: string) {
        seen.heads.push({ status, headers: { ...headers }, message });
      },
      onResponseData(_c: unknown, chunk: Buffer) {
        chunks.push(chunk);
      },
      onResponseEnd(_c: unknown, trailers: Record<string, unknown>) {
        seen.trailers = { ...trailers };
        settle();
      },
      onResponseError(_c: unknown, err: Error) {
        seen.error = err;
        settle();
      },
    });
  });
}
