// --redirect-http: the plain listener answers every request with a 308 to
// the same URL over HTTPS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { normalizeHost } from '../router/host';

export function redirectToHttps(httpsPort: number, edgeName: string) {
  const portSuffix = httpsPort === 443 ? '' : `:${httpsPort}`;
  return function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const host = normalizeHost(req.headers.host ?? '');
    if (host === '') {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'x-meridian-edge': edgeName });
      res.end('the request names no host\n');
      return;
    }
    const url = req.url?.startsWith('/') ? req.url : '/';
    res.writeHead(308, { location: `https://${host}${portSuffix}${url}`, 'content-length': 0, 'x-meridian-edge': edgeName });
    res.end();
  };
}

// The same for a protocol upgrade (WebSocket) on the plain listener: the
// 308 written on the socket, which then closes.
export function redirectUpgradeToHttps(httpsPort: number, edgeName: string) {
  const portSuffix = httpsPort === 443 ? '' : `:${httpsPort}`;
  return function onUpgrade(req: IncomingMessage, socket: Duplex): void {
    const host = normalizeHost(req.headers.host ?? '');
    const url = req.url?.startsWith('/') ? req.url : '/';
    socket.on('error', () => socket.destroy());
    if (host === '') {
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-meridian-edge: ${edgeName}\r\nconnection: close\r\n\r\n`);
      return;
    }
    socket.end(`HTTP/1.1 308 Permanent Redirect\r\nlocation: https://${host}${portSuffix}${url}\r\ncontent-length: 0\r\nx-meridian-edge: ${edgeName}\r\nconnection: close\r\n\r\n`);
  };
}
