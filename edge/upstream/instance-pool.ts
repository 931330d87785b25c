// A keep-alive connection pool to one local instance: an undici Pool
// (HTTP/1.1), or for a service whose instances speak HTTP/2 (gRPC) an
// H2InstancePool (h2c).
import { Pool } from 'undici';
import { H2InstancePool } from './h2-instance-pool';
import type { UpstreamDispatcher } from './upstream-dispatcher';

export interface InstancePoolOptions {
  connectTimeoutMs: number;
  // Most connections to one instance; requests queue beyond that (HTTP/1.1).
  connections: number;
  http2: boolean;
}

export const DEFAULT_CONNECTIONS_PER_INSTANCE = 256;

export function instanceOrigin(address: string, port: number): string {
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export function createInstancePool(address: string, port: number, options: InstancePoolOptions): UpstreamDispatcher {
  if (options.http2) return new H2InstancePool(address, port, { connectTimeoutMs: options.connectTimeoutMs });
  return new Pool(instanceOrigin(address, port), {
    connections: options.connections,
    pipelining: 1,
    connect: { timeout: options.connectTimeoutMs },
    // Per request: the gateway passes its own timeouts with every dispatch.
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
  });
}
