// HTTP/2 without TLS on the plain listener, for clients that know the server
// speaks it (prior knowledge, RFC 9113 3.3): gRPC clients inside the mesh and
// edges sending gRPC to an ingress. The first bytes of a connection decide:
// the HTTP/2 connection preface goes to an HTTP/2 server, anything else to
// node's HTTP/1.1 connection handling as before. The bytes read to decide are
// put back into the socket. Costs one look at the first packet of each
// connection; nothing per request.
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type ConnectionListener = (this: http.Server, socket: Socket) => void;

// node's own HTTP/1.1 'connection' listener of `server`.
export function http1ConnectionListener(server: http.Server): ConnectionListener {
  const http1 = server.listeners('connection').find((l) => l.name === 'connectionListener') as ConnectionListener | undefined;
  if (http1 === undefined) throw new Error("node's HTTP/1.1 connection listener was not found");
  return http1;
}

// Puts itself in front of the HTTP/1.1 'connection' listener of `server`
// (node's own, or the fast path's).
// A connection that sends nothing within headersTimeoutMs is closed.
export function acceptH2cPriorKnowledge(server: http.Server, h2c: http2.Http2Server, headersTimeoutMs: number, http1: ConnectionListener = http1ConnectionListener(server)): void {
  server.removeListener('connection', http1);
  server.prependListener('connection', (socket: Socket) => sniff(server, http1, h2c, socket, headersTimeoutMs));
}

function sniff(server: http.Server, http1: ConnectionListener, h2c: http2.Http2Server, socket: Socket, timeoutMs: number): void {
  let seen: Buffer | null = null;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onError = () => socket.destroy();
  const onClose = () => clearTimeout(timer);
  const onData = (chunk: Buffer) => {
    const data = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(data.length, PREFACE.length);
    const h2 = PREFACE.compare(data, 0, n, 0, n) === 0;
    if (h2 && n < PREFACE.length) {
      // A prefix of the preface so far: wait for the rest.
      seen = data;
      return;
    }
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.pause();
    socket.unshift(data);
    if (h2) {
      h2c.emit('connection', socket);
    } else {
      http1.call(server, socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
}
