// What the request pipeline needs from a connection pool: undici's dispatch
// (the handler API of exchange.ts) and a way to close it. An undici Pool is
// one; H2InstancePool (HTTP/2 over node:http2) is the other.
import type { Dispatcher } from 'undici';

export interface UpstreamDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}
