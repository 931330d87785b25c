// Responses the gateway makes itself (404, 413, 502, 503, 504, 508...): a
// short text body that says why, x-meridian-edge, Retry-After where a retry
// later makes sense, and Connection: close when the request body is left
// unread on an HTTP/1.1 connection. sendRawReply writes the same on a bare
// socket (a protocol upgrade that could not be made), then closes it. A
// layer that answers instead of passing the request on says so as a Refusal.
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientResponse } from './client-types';
import { writer } from './client-types';

export interface LocalReplyOptions {
  retryAfterSeconds?: number;
  // HTTP/1.1 only: close the connection after the reply.
  close?: boolean;
}

// A layer's answer instead of passing the request on.
export interface Refusal extends LocalReplyOptions {
  status: number;
  message: string;
}

export function noInstanceMessage(service: string): string {
  return `no healthy instance of service '${service}' in any region`;
}

export function sendLocalReply(res: ClientResponse, status: number, message: string, edgeName: string, options?: LocalReplyOptions): void {
  const body = message + '\n';
  const headers: OutgoingHttpHeaders = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-meridian-edge': edgeName,
  };
  if (options?.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
  if (options?.close && !('stream' in res)) headers.connection = 'close';
  const w = writer(res);
  w.writeHead(status, headers);
  w.end(body);
}

export function sendRawReply(socket: Duplex, status: number, message: string, edgeName: string, options?: LocalReplyOptions): void {
  const body = message + '\n';
  const retryAfter = options?.retryAfterSeconds !== undefined ? `retry-after: ${options.retryAfterSeconds}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `cache-control: no-store\r\nx-meridian-edge: ${edgeName}\r\n${retryAfter}connection: close\r\n\r\n${body}`,
  );
}
