// The plain HTTP/1.1 listener.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { EdgeMetrics } from '../observability/edge-metrics';
import type { ClientRequest, ClientResponse } from '../request/client-types';
import { clientErrorHandler } from './client-errors';
import type { ConnectionTracker } from './connection-tracker';
import { applyHttp1Limits, checkingIntervalMs, type ListenerLimits } from './limits';

export interface HttpListenerOptions {
  limits: ListenerLimits;
  onRequest: (req: ClientRequest, res: ClientResponse) => void;
  onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  connections: ConnectionTracker;
  edgeName: string;
  metrics: EdgeMetrics;
}

export function createHttpListener(options: HttpListenerOptions): http.Server {
  const { limits } = options;
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
      requireHostHeader: true,
      noDelay: true,
    },
    options.onRequest,
  );
  applyHttp1Limits(server, limits);
  server.on('connection', options.connections.onSocket);
  server.on('clientError', clientErrorHandler(options.edgeName, options.metrics));
  server.on('upgrade', options.onUpgrade);
  return server;
}
