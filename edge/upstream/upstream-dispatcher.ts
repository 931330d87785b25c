// What the request pipeline needs from a connection pool: undici's dispatch
// (the handler API of exchange.ts) and a way to close it. An undici Pool is
// one; H2InstancePool (HTTP/2 over node:http2) is the other.
import type { Dispatcher } from 'undici';

export interface UpstreamDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
  // Pools to a remote ingress (RenewablePool): goes up each time new
  // requests move to new connections.
  readonly generation?: number;
  // Pools to a remote ingress: is the path to it (round trip rttMs as far
  // as known) alive? When it is not and the pool is still at `generation`,
  // new requests go to new connections (the old ones may hang on it).
  pathAlive?(generation: number, rttMs: number): Promise<boolean>;
}
