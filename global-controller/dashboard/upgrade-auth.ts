// Where the token of a WebSocket upgrade comes from, and how a refused upgrade
// is answered. Browsers cannot set Authorization on a WebSocket, so the token
// may also travel as the subprotocol `bearer.<token>` or as `?token=`.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';

export const BEARER_PROTOCOL_PREFIX = 'bearer.';

export function offeredProtocols(req: http.IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return [];
  return header.split(',').map((p) => p.trim()).filter((p) => p !== '');
}

// Authorization header first (scripts), then the subprotocol (browsers), then the query.
export function upgradeToken(req: http.IncomingMessage, url: URL): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m) return m[1];
  const protocol = offeredProtocols(req).find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (protocol) return protocol.slice(BEARER_PROTOCOL_PREFIX.length);
  return url.searchParams.get('token') ?? undefined;
}

// The upgrade has not happened: answer in plain HTTP, in the admin API's error shape, and hang up.
export function refuseUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: message, details: [] }) + '\n';
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.on('error', () => undefined);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  503: 'Service Unavailable',
};
