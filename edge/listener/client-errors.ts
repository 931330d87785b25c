// Answers for requests node's parser refuses before the pipeline sees them:
// malformed requests and request-smuggling shapes (Content-Length with
// Transfer-Encoding, two different Content-Lengths, bad chunk sizes) get 400,
// oversized headers 431, a client too slow with its headers 408. The
// connection is closed each time; nothing reaches an instance, and the
// listener goes on serving everyone else.
import type { Duplex } from 'node:stream';
import type { EdgeMetrics } from '../observability/edge-metrics';

interface ParserError extends Error {
  code?: string;
}

export function clientErrorHandler(edgeName: string, metrics: EdgeMetrics) {
  return function onClientError(err: ParserError, socket: Duplex): void {
    const code = err.code;
    const fromParser = code !== undefined && (code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT');
    // A response in progress on this connection (a request whose body turned
    // out malformed) may still be replaced by the 400 if none of it was sent.
    const pending = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!fromParser || !socket.writable || pending?.headersSent === true) {
      // A TLS handshake failure, a client that is gone, or a response already
      // being written on this connection: there is no clean way to answer.
      if (!fromParser && code !== 'ECONNRESET') metrics.clientErrors.labels(code?.startsWith('ERR_SSL') ? 'tls' : 'other').inc();
      socket.destroy();
      return;
    }
    let status = 400;
    let reason = 'Bad Request';
    let kind = 'bad-request';
    let message = `bad request: ${code ?? 'malformed'}`;
    if (code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      reason = 'Request Header Fields Too Large';
      kind = 'header-overflow';
      message = 'request headers are too large';
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      reason = 'Request Timeout';
      kind = 'timeout';
      message = 'request not received in time';
    }
    metrics.clientErrors.labels(kind).inc();
    const body = message + '\n';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-meridian-edge: ${edgeName}\r\nconnection: close\r\n\r\n${body}`,
    );
    // A client that never reads does not keep the socket.
    setTimeout(destroySocket, 1_000, socket).unref();
  };
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}
