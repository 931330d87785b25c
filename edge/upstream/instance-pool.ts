// A keep-alive connection pool to one local instance (undici Pool, HTTP/1.1).
import { Pool } from 'undici';

export interface InstancePoolOptions {
  connectTimeoutMs: number;
  // Most connections to one instance; requests queue beyond that.
  connections: number;
}

export const DEFAULT_CONNECTIONS_PER_INSTANCE = 256;

export function instanceOrigin(address: string, port: number): string {
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export function createInstancePool(address: string, port: number, options: InstancePoolOptions): Pool {
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
