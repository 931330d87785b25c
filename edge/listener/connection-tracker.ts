// The connections of every listener, for draining: HTTP/1.1 sockets with the
// number of requests in progress on each, and HTTP/2 sessions. On drain, idle
// HTTP/1.1 connections are closed at once and busy ones as soon as their
// request is done; HTTP/2 sessions get a GOAWAY and finish their streams.
// At the end of the drain period whatever is left is destroyed.
import type { Socket } from 'node:net';
import type { Http2Session } from 'node:http2';
import type { ClientRequest } from '../request/client-types';

const kActive = Symbol('meridian.activeRequests');

type TrackedSocket = Socket & { [kActive]?: number };

export class ConnectionTracker {
  private readonly sockets = new Set<TrackedSocket>();
  private readonly sessions = new Set<Http2Session>();
  private draining = false;

  // For 'connection' (plain) and 'secureConnection' (TLS) events.
  readonly onSocket = (socket: Socket): void => {
    const s = socket as TrackedSocket;
    if (this.draining) {
      s.destroy();
      return;
    }
    s[kActive] = 0;
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  };

  readonly onSession = (session: Http2Session): void => {
    // The session's socket is tracked as a session, not as an HTTP/1.1 socket.
    if (session.socket) this.sockets.delete(session.socket as TrackedSocket);
    if (this.draining) {
      session.close();
      return;
    }
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  };

  requestStarted(req: ClientRequest): void {
    if (req.httpVersionMajor === 2) return;
    const s = req.socket as TrackedSocket;
    s[kActive] = (s[kActive] ?? 0) + 1;
  }

  requestDone(req: ClientRequest): void {
    if (req.httpVersionMajor === 2) return;
    const s = req.socket as TrackedSocket | null;
    if (s === null) return;
    const n = (s[kActive] ?? 1) - 1;
    s[kActive] = n;
    if (this.draining && n === 0) s.end();
  }

  // Stop keeping connections open: idle ones close now.
  drain(): void {
    this.draining = true;
    for (const s of this.sockets) if ((s[kActive] ?? 0) === 0) s.end();
    for (const session of this.sessions) session.close();
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    for (const session of this.sessions) session.destroy();
    this.sockets.clear();
    this.sessions.clear();
  }

  counts(): { http1: number; http2: number } {
    return { http1: this.sockets.size, http2: this.sessions.size };
  }
}
