// The admin listener (--admin HOST:PORT): /metrics for Prometheus, /healthz
// (200 while serving, 503 while draining or before the first view in
// controlled mode) and /v1/view, a JSON summary of the view in force: its
// identities, peers and addresses, for callers on this host or the bearer of
// --admin-token-file's token (401/403 otherwise). /metrics and /healthz stay
// open (docs/observability.md says why).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decideLocalAdminAccess, type AccessPolicy } from '../../lib/auth/local-admin-access';

export interface AdminHandlers {
  metrics(): Promise<{ contentType: string; body: string }>;
  // fields: extra `key: value` lines after the status (announcing, ...).
  health(): { ok: boolean; status: string; fields?: Record<string, string | number | boolean> };
  view(): Promise<unknown> | unknown;
}

export class AdminServer {
  private server: http.Server | undefined;

  constructor(
    private readonly handlers: AdminHandlers,
    private readonly access: AccessPolicy = {},
  ) {}

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new Error(`--admin ${host}:${port}: cannot listen: ${err.code ?? err.message}`));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
      if (path === '/metrics') {
        const m = await this.handlers.metrics();
        return send(res, 200, m.contentType, m.body);
      }
      if (path === '/healthz') {
        const h = this.handlers.health();
        const lines = Object.entries(h.fields ?? {}).map(([k, v]) => `${k}: ${v}\n`);
        return send(res, h.ok ? 200 : 503, 'text/plain', `${h.status}\n${lines.join('')}`);
      }
      if (path === '/v1/view') {
        const access = decideLocalAdminAccess({ remoteAddress: req.socket.remoteAddress, authorization: req.headers.authorization }, { tokenFlag: '--admin-token-file', ...this.access });
        if (!access.allowed) {
          res.setHeader('cache-control', 'no-store');
          if (access.status === 401) res.setHeader('www-authenticate', 'Bearer');
          return send(res, access.status, 'text/plain', `${access.reason}\n`);
        }
        return send(res, 200, 'application/json', JSON.stringify(await this.handlers.view(), null, 2) + '\n');
      }
      send(res, 404, 'text/plain', 'not found: try /metrics, /healthz or /v1/view\n');
    } catch (err) {
      send(res, 500, 'text/plain', `${(err as Error).message}\n`);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
