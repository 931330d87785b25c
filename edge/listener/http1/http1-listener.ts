// The fast HTTP/1.1 path of a listener: its server still listens
// (address(), close(), cluster sharing, the h2c sniff in front), but each
// HTTP/1.1 connection is served by an Http1Connection instead of node's
// IncomingMessage/ServerResponse machinery. Timeouts are checked by one
// sweep per listener, as node's connectionsCheckingInterval does, not by a
// timer per request or connection.
import type * as net from 'node:net';
import type { Socket } from 'node:net';
import type { FastRequest } from './fast-request';
import type { FastResponse } from './fast-response';
import { Http1Connection, type ConnectionSettings } from './http1-connection';
import { llhttp } from '../../http1/llhttp';
import { checkingIntervalMs, type Http1ServerFields, type ListenerLimits } from '../limits';

export interface FastHttp1Options {
  // The listener's header size and timeouts (the timeouts are read from the server).
  limits: ListenerLimits;
  onRequest(req: FastRequest, res: FastResponse): void;
  onClientError(err: Error & { code?: string }, socket: Socket): void;
  // Gives a connection to node's own HTTP/1.1 handling of the same server.
  handOver(socket: Socket): void;
}

// The listening server whose HTTP/1.1 connections this path serves: an
// http.Server, or the HTTPS listener's http2 secure server (allowHTTP1),
// which has the same limit fields but no closeIdleConnections.
export type Http1Server = net.Server &
  Http1ServerFields & {
    closeIdleConnections?: () => void;
    closeAllConnections?: () => void;
  };

export class FastHttp1 implements ConnectionSettings {
  readonly maxHeaderSize: number;
  readonly connections = new Set<Http1Connection>();
  readonly onRequest: FastHttp1Options['onRequest'];
  readonly onClientError: FastHttp1Options['onClientError'];
  private readonly sweepTimer: NodeJS.Timeout;

  // The 'connection' listener that takes the server's HTTP/1.1 connections.
  readonly onConnection = (socket: Socket): void => {
    if (socket.destroyed) return;
    this.connections.add(new Http1Connection(this, socket, Date.now()));
  };

  constructor(
    private readonly server: Http1Server,
    private readonly options: FastHttp1Options,
  ) {
    llhttp();
    this.maxHeaderSize = options.limits.maxHeaderBytes;
    this.onRequest = options.onRequest;
    this.onClientError = options.onClientError;
    this.sweepTimer = setInterval(sweep, checkingIntervalMs(options.limits), this).unref();
    server.once('close', () => clearInterval(this.sweepTimer));
    // server.close() closes idle connections (node:http does so for its own).
    const connections = this.connections;
    const closeIdle = server.closeIdleConnections;
    server.closeIdleConnections = function (this: Http1Server) {
      closeIdle?.call(this);
      for (const c of connections) c.closeIfIdle();
    };
    const closeAll = server.closeAllConnections;
    server.closeAllConnections = function (this: Http1Server) {
      closeAll?.call(this);
      for (const c of connections) c.socket.destroy();
    };
  }

  keepAliveTimeoutMs(): number {
    return this.server.keepAliveTimeout;
  }

  handOver(socket: Socket): void {
    this.options.handOver(socket);
  }

  connectionClosed(conn: Http1Connection): void {
    this.connections.delete(conn);
  }

  sweep(): void {
    const now = Date.now();
    let headers = this.server.headersTimeout;
    let request = this.server.requestTimeout;
    // As node: the shorter is the headers timeout.
    if (request > 0 && headers > request) [headers, request] = [request, headers];
    const keepAlive = this.server.keepAliveTimeout;
    for (const c of this.connections) c.check(now, headers, request, keepAlive);
  }
}

function sweep(fast: FastHttp1): void {
  fast.sweep();
}
