// The dashboard's live feed: GET /v1/status/ws upgraded to a WebSocket on the
// admin API's port. Each text frame is one full MeshStatus (the body of
// GET /v1/status); clients send nothing. A frame goes out on connect, after a
// change of zone status or of Region/Service resources (coalesced: at most one
// per coalesceMs), and at least every refreshMs so that ages move.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../lib/observability/logger';
import { prom, type Registry } from '../../lib/observability/metrics';
import type { ApiTokens } from '../auth/api-tokens';
import type { ChangeBatch, ResourceStore } from '../store/resource-store';
import type { ZoneStatusStore } from '../zones/zone-status-store';
import { buildMeshStatus } from './status-model';
import { BEARER_PROTOCOL_PREFIX, offeredProtocols, refuseUpgrade, upgradeToken } from './upgrade-auth';

export const STATUS_FEED_PATH = '/v1/status/ws';

export interface DashboardFeedOptions {
  store: ResourceStore;
  zones: ZoneStatusStore;
  tokens: ApiTokens;
  logger: Logger;
  registry?: Registry;
  coalesceMs?: number;
  refreshMs?: number;
  // A client with more than this queued (a slow or stuck reader) is dropped.
  maxBufferedBytes?: number;
  maxClients?: number;
  // A client that has not answered a ping by the next one is dropped.
  pingMs?: number;
}

interface Client {
  ws: WebSocket;
  alive: boolean;
}

export class DashboardFeed {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly coalesceMs: number;
  private readonly refreshMs: number;
  private readonly maxBufferedBytes: number;
  private readonly maxClients: number;
  private readonly pingMs: number;
  private readonly connected: prom.Gauge | undefined;
  private readonly dropped: prom.Counter | undefined;
  // The admin API's plaintext (loopback) and HTTPS servers: both take the feed.
  private readonly servers: http.Server[] = [];
  private pushTimer: NodeJS.Timeout | undefined;
  private pushDueAt = 0;
  private lastPushAt = 0;
  private pushing = false;
  private pushAgain = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: DashboardFeedOptions) {
    this.coalesceMs = opts.coalesceMs ?? 250;
    this.refreshMs = opts.refreshMs ?? 2000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.maxClients = opts.maxClients ?? 256;
    this.pingMs = opts.pingMs ?? 15_000;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // Clients have nothing to say; a ping or a close frame fits.
      maxPayload: 4096,
      handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX)) ?? false,
    });
    if (opts.registry) {
      this.connected = new prom.Gauge({ name: 'meridian_dashboard_clients', help: 'Open dashboard feed connections', registers: [opts.registry] });
      this.dropped = new prom.Counter({
        name: 'meridian_dashboard_clients_dropped_total',
        help: 'Dashboard feed clients dropped for falling behind or not answering pings',
        registers: [opts.registry],
      });
    }
  }

  // Called once per listener; the feed follows the mesh from the first call.
  attach(server: http.Server): void {
    this.servers.push(server);
    server.on('upgrade', this.onUpgrade);
    if (this.servers.length > 1) return;
    this.opts.zones.on('change', this.onChange);
    this.opts.store.on('changes', this.onResourceChanges);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const server of this.servers) server.off('upgrade', this.onUpgrade);
    this.opts.zones.off('change', this.onChange);
    this.opts.store.off('changes', this.onResourceChanges);
    this.stopTimers();
    const open = [...this.clients];
    await Promise.all(
      open.map(
        (c) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => c.ws.terminate(), 1000);
            c.ws.once('close', () => {
              clearTimeout(t);
              resolve();
            });
            c.ws.close(1001, 'server shutting down');
          }),
      ),
    );
    this.wss.close();
  }

  get size(): number {
    return this.clients.size;
  }

  // The admin server has no other WebSocket, so any other path is refused here.
  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Appended, not resolved: a target like `//[` is a path that matches
    // nothing, where resolving it throws (and a throw here ends the process).
    let url: URL;
    try {
      url = new URL(`http://admin${req.url ?? '/'}`);
    } catch {
      return refuseUpgrade(socket, 400, 'the request target is not a valid path');
    }
    if (url.pathname !== STATUS_FEED_PATH) return refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
    const token = upgradeToken(req, url);
    if (!token) {
      return refuseUpgrade(socket, 401, `missing token (subprotocol ${BEARER_PROTOCOL_PREFIX}<token>, ?token= or Authorization: Bearer)`, { 'WWW-Authenticate': 'Bearer' });
    }
    if (!this.opts.tokens.roleOf(token)) return refuseUpgrade(socket, 401, 'the token is not valid', { 'WWW-Authenticate': 'Bearer' });
    // A token sent by query must not be echoed back as a protocol the client did not offer.
    if (offeredProtocols(req).length > 0 && !offeredProtocols(req).some((p) => p.startsWith(BEARER_PROTOCOL_PREFIX))) {
      return refuseUpgrade(socket, 400, `unknown subprotocol; offer ${BEARER_PROTOCOL_PREFIX}<token> or none`);
    }
    if (this.closed) return refuseUpgrade(socket, 503, 'the server is shutting down');
    if (this.clients.size >= this.maxClients) return refuseUpgrade(socket, 503, 'too many dashboard connections');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  };

  private accept(ws: WebSocket): void {
    const client: Client = { ws, alive: true };
    this.clients.add(client);
    this.connected?.set(this.clients.size);
    ws.on('pong', () => (client.alive = true));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.clients.delete(client);
      this.connected?.set(this.clients.size);
      if (this.clients.size === 0) this.stopTimers();
    });
    if (this.clients.size === 1) {
      this.pingTimer = setInterval(() => this.ping(), this.pingMs);
      this.pingTimer.unref();
    }
    // The first frame for this client alone; the others keep their rhythm.
    void this.build().then((text) => text !== undefined && this.send(client, text));
    this.armPush(Date.now() + this.refreshMs);
  }

  private readonly onChange = (): void => {
    if (this.clients.size > 0) this.armPush(Math.max(Date.now(), this.lastPushAt + this.coalesceMs));
  };

  private readonly onResourceChanges = (batch: ChangeBatch): void => {
    if (batch.changes.some((c) => c.kind === 'Region' || c.kind === 'Service')) this.onChange();
  };

  // Keeps the earliest due time: a change never delays a push already planned.
  private armPush(at: number): void {
    if (this.closed || this.clients.size === 0) return;
    if (this.pushTimer && this.pushDueAt <= at) return;
    clearTimeout(this.pushTimer);
    this.pushDueAt = at;
    this.pushTimer = setTimeout(() => void this.push(), Math.max(0, at - Date.now()));
    this.pushTimer.unref();
  }

  private async push(): Promise<void> {
    this.pushTimer = undefined;
    // One build at a time: a build waits on etcd when the cache is cold.
    if (this.pushing) return void (this.pushAgain = true);
    this.pushing = true;
    try {
      const text = await this.build();
      this.lastPushAt = Date.now();
      if (text !== undefined) for (const c of this.clients) this.send(c, text);
    } finally {
      this.pushing = false;
    }
    if (this.pushAgain) {
      this.pushAgain = false;
      this.armPush(this.lastPushAt + this.coalesceMs);
    }
    this.armPush(this.lastPushAt + this.refreshMs);
  }

  private async build(): Promise<string | undefined> {
    try {
      return JSON.stringify(await buildMeshStatus(this.opts));
    } catch (err) {
      this.opts.logger.error({ err }, 'could not build the mesh status');
      return undefined;
    }
  }

  private send(c: Client, text: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount + text.length > this.maxBufferedBytes) return this.drop(c, 'fell behind');
    c.ws.send(text);
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.drop(c, 'did not answer a ping');
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  private drop(c: Client, why: string): void {
    this.dropped?.inc();
    this.opts.logger.info({ why, buffered: c.ws.bufferedAmount }, 'dashboard client dropped');
    c.ws.terminate();
  }

  private stopTimers(): void {
    clearTimeout(this.pushTimer);
    this.pushTimer = undefined;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}
