// A keep-alive connection pool to one local instance: for HTTP/1.1 the fast
// engine (H1InstancePool: raw sockets and Node's llhttp) or an undici Pool,
// or for a service whose instances speak HTTP/2 (gRPC) an H2InstancePool (h2c).
import { Pool } from 'undici';
import { H1InstancePool } from './h1-instance-pool';
import { H2InstancePool } from './h2-instance-pool';
import type { UpstreamDispatcher } from './upstream-dispatcher';

export interface InstancePoolOptions {
  connectTimeoutMs: number;
  // Most connections to one instance; requests queue beyond that (HTTP/1.1).
  connections: number;
  http2: boolean;
  // HTTP/1.1: the fast pool, or undici's (the two are compared byte for
  // byte by h1-instance-pool-differential.test.ts).
  engine: Http1PoolEngine;
}

export type Http1PoolEngine = 'fast' | 'undici';

export const KEEP_ALIVE_TIMEOUT_MS = 4_000;

export const DEFAULT_CONNECTIONS_PER_INSTANCE = 256;

export function instanceOrigin(address: string, port: number): string {
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export function createInstancePool(address: string, port: number, options: InstancePoolOptions): UpstreamDispatcher {
  if (options.http2) return new H2InstancePool(address, port, { connectTimeoutMs: options.connectTimeoutMs });
  if (options.engine === 'fast') {
    return new H1InstancePool(address, port, { connectTimeoutMs: options.connectTimeoutMs, connections: options.connections, keepAliveMs: KEEP_ALIVE_TIMEOUT_MS });
  }
  return new Pool(instanceOrigin(address, port), {
    connections: options.connections,
    pipelining: 1,
    connect: { timeout: options.connectTimeoutMs },
    // Per request: the gateway passes its own timeouts with every dispatch.
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    keepAliveMaxTimeout: 60_000,
  });
}
