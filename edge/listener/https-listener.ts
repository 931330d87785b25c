// The HTTPS listener: TLS with a certificate per server name (SNI), HTTP/2
// negotiated through ALPN and HTTP/1.1 for clients that do not offer it
// (http2.createSecureServer with allowHTTP1), served by the fast path
// (http1/) unless the engine is node. HTTP/1.1 connections get the
// same limits as on the plain listener; HTTP/2 sessions are bounded by the
// header list size and the concurrent streams, closed after the idle timeout
// and when the client resets streams too fast (http2-reset-guard.ts). With client
// authentication (the ingress's --tls-ca), the client certificate is asked
// for and, with --require-client-cert, required at the handshake; an ingress
// in controlled mode asks for it and checks it per request instead.
import * as http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EdgeMetrics } from '../observability/edge-metrics';
import type { ClientRequest, ClientResponse } from '../request/client-types';
import { clientErrorHandler } from './client-errors';
import type { ConnectionTracker } from './connection-tracker';
import { guardAgainstRapidReset } from './http2-reset-guard';
import { applyHttp1Limits, checkingIntervalMs, type Http1ServerFields, type ListenerLimits } from './limits';
import { EDGE_TLS_POLICY, type ClientAuth, type SecureContextStore } from './secure-contexts';
import { filterUpgrades } from './upgrade-filter';
import type { Http1Engine } from './http-listener';
import { FastHttp1 } from './http1/http1-listener';

export interface HttpsListenerOptions {
  limits: ListenerLimits;
  contexts: SecureContextStore;
  clientAuth?: ClientAuth;
  // An ingress in controlled mode: ask every client for its certificate but
  // let the handshake through; each request is then checked
  // (identity/ingress-authorizer.ts), so a refusal is an HTTP 403 with a reason.
  requestClientCert?: boolean;
  onRequest: (req: ClientRequest, res: ClientResponse) => void;
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  connections: ConnectionTracker;
  edgeName: string;
  metrics: EdgeMetrics;
  // Who serves the connections that did not negotiate h2 (default: the fast path).
  http1?: Http1Engine;
}

type SecureServer = http2.Http2SecureServer & Http1ServerFields & { connectionsCheckingInterval: number };

export function createHttpsListener(options: HttpsListenerOptions): http2.Http2SecureServer {
  const { limits, contexts, clientAuth } = options;
  const server = http2.createSecureServer(
    {
      ...contexts.serverOptions(),
      ...EDGE_TLS_POLICY,
      allowHTTP1: true,
      SNICallback: contexts.sniCallback,
      ...(clientAuth ? { ca: clientAuth.ca, requestCert: true, rejectUnauthorized: clientAuth.required } : {}),
      ...(options.requestClientCert && !clientAuth ? { requestCert: true, rejectUnauthorized: false } : {}),
      settings: { maxHeaderListSize: limits.maxHeaderBytes, maxConcurrentStreams: limits.http2MaxConcurrentStreams },
      maxSessionMemory: 32,
    },
    options.onRequest,
  ) as SecureServer;
  applyHttp1Limits(server, limits);
  server.connectionsCheckingInterval = checkingIntervalMs(limits);
  // Idle HTTP/2 sessions and HTTP/1.1 sockets without activity.
  server.setTimeout(limits.keepAliveTimeoutMs);
  contexts.attach(server);
  server.on('secureConnection', (socket: Socket) => {
    // As on the plain listener: a response's head and body written apart
    // must not wait for the client's delayed ACK (Nagle).
    socket.setNoDelay(true);
    if (alpnOf(socket) !== 'h2') options.connections.onSocket(socket);
  });
  server.on('session', options.connections.onSession);
  const onClientError = clientErrorHandler(options.edgeName, options.metrics);
  server.on('clientError', onClientError);
  server.on('sessionError', () => undefined);
  guardAgainstRapidReset(server, limits.http2MaxResetsPerSecond, options.metrics);
  // node's: h2 sessions, and (allowHTTP1) node:http for the rest.
  const nodeListener = http2ConnectionListener(server);
  if ((options.http1 ?? 'fast') === 'fast') {
    const fast = new FastHttp1(server, { limits, onRequest: options.onRequest, onClientError, handOver: (socket) => nodeListener.call(server, socket) });
    server.removeListener('secureConnection', nodeListener);
    server.on('secureConnection', function (this: http2.Http2SecureServer, socket: Socket) {
      if (alpnOf(socket) === 'h2') nodeListener.call(this, socket);
      else fast.onConnection(socket);
    });
  }
  server.on(
    'upgrade',
    filterUpgrades((socket) => nodeListener.call(server, socket), options.onUpgrade),
  );
  return server;
}

function alpnOf(socket: Socket): string | false | undefined {
  return (socket as Socket & { alpnProtocol?: string | false }).alpnProtocol;
}

// node's 'secureConnection' listener of an HTTP/2 server, which hands a
// connection that did not negotiate h2 to its HTTP/1.1 handling (allowHTTP1).
function http2ConnectionListener(server: http2.Http2SecureServer): (this: http2.Http2SecureServer, socket: Socket) => void {
  const listener = server.listeners('secureConnection').find((l) => l.name === 'connectionListener');
  if (listener === undefined) throw new Error("node's HTTP/2 connection listener was not found");
  return listener as (this: http2.Http2SecureServer, socket: Socket) => void;
}
