// Responses the gateway makes itself (404, 413, 502, 503, 504, 508...): a
// short text body that says why, x-meridian-edge, Retry-After where a retry
// later makes sense, and Connection: close when the request body is left
// unread on an HTTP/1.1 connection.
import type { OutgoingHttpHeaders } from 'node:http';
import type { ClientResponse } from './client-types';
import { writer } from './client-types';

export interface LocalReplyOptions {
  retryAfterSeconds?: number;
  // HTTP/1.1 only: close the connection after the reply.
  close?: boolean;
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
