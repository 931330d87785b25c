// The global controller's admin port: admin API, the global view, the
// dashboard, /healthz and /metrics. Every replica serves it over HTTPS
// (--https) for the network and, on loopback only, in plaintext (--http);
// both listeners answer the same routes.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as tls from 'node:tls';
import type { Logger } from '../../lib/observability/logger';
import { prom, type Registry } from '../../lib/observability/metrics';
import type { ApiRole, ApiTokens } from '../auth/api-tokens';
import type { JoinSigningKey } from '../auth/join-signing-key';
import type { JoinTokenRecords } from '../auth/join-token-records';
import type { ZoneSessionRegistry } from '../zones/zone-session-registry';
import type { ResourceStore } from '../store/resource-store';
import type { ZoneStatusStore } from '../zones/zone-status-store';
import { loadDashboardAssets, serveDashboard, type DashboardAssets } from '../dashboard/page/assets';
import { buildMeshStatus } from '../dashboard/status-model';
import { HttpError, sendError, sendJson } from './http-response';
import { applyDocuments, deleteResource, getResource, listResources } from './resource-routes';
import { listRegions } from './regions-route';
import { tokenRoutes } from './token-routes';
import { zoneSessionRoutes } from './zone-session-routes';
import { caRoutes } from './ca-routes';
import { instanceTokenRoutes, type InstanceTokenRouteDeps } from './instance-token-routes';
import type { RootCaStore } from '../identity/root-ca-store';
import type { CertificateKeys } from '../identity/certificate-keys';
import { DEFAULT_DOCUMENT_PARSER, DocumentParser } from './document-parser';
import { MAX_RESOURCES_PER_APPLY, MAX_YAML_DOCUMENTS_PER_APPLY } from './apply-limits';
import { decodePathSegment, requestUrl } from './request-path';

export interface AdminServerDeps {
  store: ResourceStore;
  zones: ZoneStatusStore;
  tokens: ApiTokens;
  joinKey: JoinSigningKey;
  joinTokens: JoinTokenRecords;
  sessions: ZoneSessionRegistry;
  registry: Registry;
  logger: Logger;
  replica: string;
  isLeader: () => boolean;
  bodyLimitBytes: number;
  trustDomain: string;
  rootCa?: RootCaStore;
  certificateKeys: CertificateKeys;
  instanceTokens: InstanceTokenRouteDeps;
}

const RESOURCE_PATH = /^\/v1\/resources\/([^/]+)(?:\/([^/]+))?\/?$/;

export class AdminServer {
  private readonly server: http.Server;
  private tlsServer: https.Server | undefined;
  // Hooks that take each listener (the dashboard feed's upgrades).
  private readonly upgradeHandlers: Array<(server: http.Server) => void> = [];
  private readonly requests: prom.Counter<'route' | 'method' | 'code'>;
  private readonly duration: prom.Histogram<'route'>;
  private readonly dashboard: DashboardAssets = loadDashboardAssets();
  private readonly documentParser = new DocumentParser({
    ...DEFAULT_DOCUMENT_PARSER,
    limits: { maxDocuments: MAX_YAML_DOCUMENTS_PER_APPLY, maxResources: MAX_RESOURCES_PER_APPLY },
  });

  constructor(private readonly deps: AdminServerDeps) {
    this.requests = new prom.Counter({
      name: 'meridian_admin_requests_total',
      help: 'Admin API requests',
      labelNames: ['route', 'method', 'code'],
      registers: [deps.registry],
    });
    this.duration = new prom.Histogram({
      name: 'meridian_admin_request_duration_seconds',
      help: 'Admin API request duration',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [deps.registry],
    });
    this.server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => void this.handle(req, res));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  listen(host: string, port: number): Promise<number> {
    return listenOn(this.server, host, port, 'the admin API');
  }

  // The HTTPS listener; the certificate may be replaced later (renewal):
  // new connections get the new one.
  listenTls(host: string, port: number, context: tls.SecureContextOptions): Promise<number> {
    const server = (this.tlsServer = https.createServer({ ...context, handshakeTimeout: 10_000, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => void this.handle(req, res)));
    // A failed handshake (a client that does not trust the certificate) is the client's business.
    server.on('tlsClientError', () => undefined);
    server.on('clientError', (_err, socket) => socket.destroy());
    for (const attach of this.upgradeHandlers) attach(server);
    return listenOn(server, host, port, 'the admin API over HTTPS');
  }

  setSecureContext(context: tls.SecureContextOptions): void {
    this.tlsServer?.setSecureContext(context);
  }

  // For the dashboard feed, which takes WebSocket upgrades on both listeners
  // (the HTTPS one is made at listenTls, so the hook is kept for it).
  onServer(attach: (server: http.Server) => void): void {
    this.upgradeHandlers.push(attach);
    attach(this.server);
    if (this.tlsServer) attach(this.tlsServer);
  }

  close(): Promise<void> {
    const servers = [this.server, ...(this.tlsServer ? [this.tlsServer] : [])];
    return Promise.all(
      servers.map((s) => {
        s.closeAllConnections();
        return new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
      }),
    ).then(() => undefined);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let route = 'unknown';
    try {
      route = await this.route(req, res, requestUrl(req));
    } catch (err) {
      const httpErr = err instanceof HttpError ? err : new HttpError(500, 'internal error');
      // Unexpected failures, and store failures with a cause worth reading (not
      // the plain "etcd is away"), with their stack; the client gets one line.
      // A client's mistake (4xx) is no failure of this server: nothing is logged.
      if (httpErr.status >= 500 && (!(err instanceof HttpError) || httpErr.cause !== undefined)) {
        this.deps.logger.error({ err: httpErr.cause ?? err, status: httpErr.status }, 'admin request failed');
      }
      if (!res.headersSent) sendError(res, httpErr);
      else res.destroy();
    } finally {
      this.requests.inc({ route, method: req.method ?? '', code: String(res.statusCode) });
      this.duration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  // Returns the route name for metrics.
  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<string> {
    const { deps } = this;
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/healthz' && method === 'GET') {
      sendJson(res, 200, { ok: true, replica: deps.replica, leader: deps.isLeader(), storeWarm: deps.store.warm, revision: deps.store.revision });
      return 'healthz';
    }
    if (path === '/metrics' && method === 'GET') {
      const text = await deps.registry.metrics();
      res.writeHead(200, { 'content-type': deps.registry.contentType });
      res.end(text);
      return 'metrics';
    }
    // Browsers ask for it on every page; there is none.
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return 'favicon';
    }
    const page = serveDashboard(this.dashboard, method, path, res);
    if (page) return page;
    if (!path.startsWith('/v1/')) throw new HttpError(404, `no such endpoint: ${method} ${path}`);
    const role = this.authenticate(req);
    const write = method !== 'GET' && method !== 'HEAD';
    if (write && role !== 'admin') throw new HttpError(403, 'this token may only read; writes need an admin token');

    if (path === '/v1/apply' && method === 'POST') {
      await applyDocuments(req, res, { ...deps, documentParser: this.documentParser });
      return 'apply';
    }
    if (path === '/v1/regions' && method === 'GET') {
      await listRegions(res, deps);
      return 'regions';
    }
    if (path === '/v1/status' && method === 'GET') {
      sendJson(res, 200, await buildMeshStatus(deps));
      return 'status';
    }
    if (path.startsWith('/v1/ca')) return caRoutes(method, path, res, deps.rootCa);
    if (path === '/v1/tokens' || path.startsWith('/v1/tokens/')) return tokenRoutes(req, res, method, path, deps);
    if (path === '/v1/zone-sessions' || path.startsWith('/v1/zone-sessions/')) return zoneSessionRoutes(res, method, path, deps.sessions);
    if (path === '/v1/instance-tokens' || path.startsWith('/v1/instance-tokens/')) return instanceTokenRoutes(req, res, method, path, deps.instanceTokens);
    const m = RESOURCE_PATH.exec(path);
    if (m) {
      const kind = decodePathSegment(m[1]!, 'kind');
      const name = m[2] === undefined ? undefined : decodePathSegment(m[2], 'name');
      if (method === 'GET' && name === undefined) {
        await listResources(req, res, url, kind, deps);
        return 'list';
      }
      if (method === 'GET' && name !== undefined) {
        await getResource(req, res, url, kind, name, deps);
        return 'get';
      }
      if (method === 'DELETE' && name !== undefined) {
        await deleteResource(res, kind, name, deps);
        return 'delete';
      }
      throw new HttpError(405, `${method} is not allowed on ${path}`);
    }
    throw new HttpError(404, `no such endpoint: ${method} ${path}`);
  }

  private authenticate(req: http.IncomingMessage): ApiRole {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError(401, 'missing bearer token (Authorization: Bearer <token>)', [], { 'www-authenticate': 'Bearer' });
    const role = this.deps.tokens.roleOf(m[1]!);
    if (!role) throw new HttpError(401, 'the bearer token is not valid', [], { 'www-authenticate': 'Bearer' });
    return role;
  }
}

function listenOn(server: http.Server, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen for ${what} on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}
