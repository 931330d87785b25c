// The two sockets of an upgraded connection (WebSocket), piped both ways
// once the 101 went to the client. An end on one side is passed on as an end
// on the other (half-close, as the protocol closes); an error on either, or
// no traffic either way for idleMs, destroys both; once one side is closed
// the other is ended after what is queued for it is written. `done` runs
// once, when both are closed.
import type { Socket } from 'node:net';

export function tunnel(client: Socket, upstream: Socket, idleMs: number, done: () => void): void {
  let open = 2;
  const destroyBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  const onClose = (other: Socket) => () => {
    if (!other.destroyed) other.destroySoon();
    if (--open === 0) done();
  };
  client.on('error', destroyBoth);
  upstream.on('error', destroyBoth);
  client.once('close', onClose(upstream));
  upstream.once('close', onClose(client));
  if (idleMs > 0) {
    client.setTimeout(idleMs, destroyBoth);
    upstream.setTimeout(idleMs, destroyBoth);
  }
  client.pipe(upstream);
  upstream.pipe(client);
}
