// --redirect-http: the plain listener answers every request with a 308 to
// the same URL over HTTPS.
import type { IncomingMessage, ServerResponse } from 'node:http';
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
