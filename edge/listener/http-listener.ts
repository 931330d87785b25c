// The plain listener: HTTP/1.1, and HTTP/2 with prior knowledge (h2c) for
// gRPC clients, told apart by the first bytes (h2c-prior-knowledge.ts).
// Upgrades: WebSocket forwarded, h2c ignored, others refused (upgrade-filter.ts).
// HTTP/1.1 connections are served by the fast path (http1/) or, with
// http1: 'node', by node:http's own; either way protocol upgrades go through
// node:http's handling and its 'upgrade' event.
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { EdgeMetrics } from '../observability/edge-metrics';
import type { ClientRequest, ClientResponse } from '../request/client-types';
import { clientErrorHandler } from './client-errors';
import type { ConnectionTracker } from './connection-tracker';
import { acceptH2cPriorKnowledge, http1ConnectionListener } from './h2c-prior-knowledge';
import { FastHttp1 } from './http1/http1-listener';
import { guardAgainstRapidReset } from './http2-reset-guard';
import { applyHttp1Limits, checkingIntervalMs, type ListenerLimits } from './limits';
import { filterUpgrades } from './upgrade-filter';

export type Http1Engine = 'fast' | 'node';

export interface HttpListenerOptions {
  limits: ListenerLimits;
  onRequest: (req: ClientRequest, res: ClientResponse) => void;
  onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  connections: ConnectionTracker;
  edgeName: string;
  metrics: EdgeMetrics;
  // Also take HTTP/2 with prior knowledge (not when the listener only redirects).
  h2c: boolean;
  // Who serves HTTP/1.1 connections (default: the fast path).
  http1?: Http1Engine;
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
  const onClientError = clientErrorHandler(options.edgeName, options.metrics);
  server.on('clientError', onClientError);
  const nodeHttp1 = http1ConnectionListener(server);
  let http1 = nodeHttp1;
  if ((options.http1 ?? 'fast') === 'fast') {
    const fast = new FastHttp1(server, { limits, onRequest: options.onRequest, onClientError, handOver: (socket) => nodeHttp1.call(server, socket) });
    server.removeListener('connection', nodeHttp1);
    server.prependListener('connection', fast.onConnection);
    http1 = fast.onConnection;
  }
  server.on('connection', options.connections.onSocket);
  server.on(
    'upgrade',
    filterUpgrades((socket) => nodeHttp1.call(server, socket), options.onUpgrade),
  );
  if (!options.h2c) return server;

  const h2c = http2.createServer(
    { settings: { maxHeaderListSize: limits.maxHeaderBytes, maxConcurrentStreams: limits.http2MaxConcurrentStreams }, maxSessionMemory: 32 },
    options.onRequest,
  );
  h2c.setTimeout(limits.keepAliveTimeoutMs);
  h2c.on('session', options.connections.onSession);
  h2c.on('sessionError', () => undefined);
  guardAgainstRapidReset(h2c, limits.http2MaxResetsPerSecond, options.metrics);
  acceptH2cPriorKnowledge(server, h2c, limits.headersTimeoutMs, http1);
  return server;
}
