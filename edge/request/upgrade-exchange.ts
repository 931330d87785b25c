// One protocol upgrade (WebSocket) through the gateway; any other protocol
// is answered 400 (h2c never gets here: listener/upgrade-filter.ts). It is routed like a
// request (host and path to a service, the same forwarded headers, request
// id, traceparent and hop header), then a try connects to the chosen
// instance, or to the remote region's ingress, which routes it the same way
// to one of its instances. The upstream's 101 goes to the client and the two
// sockets are piped (tunnel.ts); any other answer is passed on and the
// connection closed. A try that fails before an answer (connect failure,
// reset, per-try timeout) or answers 502/503 goes to the next instance or
// region, as a request would.
//
// The upstream leg is a new connection per upgrade (node:net, or node:tls to
// an ingress with mesh TLS) with node's HTTP/1.1 client on it for the
// handshake. undici's upgrade() resolves only on a 101 (a 401 or 404 from the
// instance could not be passed on) and cannot upgrade over the HTTP/2
// connections an edge keeps to a remote ingress.
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Backend } from '../backend/backend';
import type { Endpoint } from '../balancer/endpoint';
import type { ExchangeContext } from './exchange-context';
import { Pick, pickRegion } from '../region-picker/region-picker';
import type { RegionTarget } from '../region-picker/region-target';
import { decideRelay } from '../relay/relay-decision';
import { failureOfStatus, isIdempotent, isRetryable, type FailureKind } from '../resilience/retry-policy';
import { tryHeadersTimeoutMs } from '../resilience/timeouts';
import { addForwardedHeaders } from '../router/forwarded-headers';
import type { RouteResult } from '../router/router';
import { classifyUpstreamError, describeUpstreamError } from '../upstream/upstream-error';
import { CLIENT_CLOSED } from './exchange';
import { sendRawReply, type LocalReplyOptions } from './local-reply';
import { HOP_HEADER, RequestHead, SERVICE_HEADER, TARGET_REGION_HEADER } from './request-head';
import { EDGE_HEADER, REGION_HEADER } from './response-headers';
import { recordExchange } from './record-exchange';
import { beginHopTrace, type HopTrace } from '../observability/hop-trace';
import { formatTraceparent, TRACEPARENT_HEADER } from '../../lib/tracing/traceparent';
import { routeRequest } from './route-request';
import { isRefusal } from '../identity/ingress-authorizer';
import { tunnel } from './tunnel';
import { upgradeKind } from '../listener/upgrade-filter';

// Not passed from an upstream's non-101 answer to the client (the connection
// closes after it; its body is passed decoded).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', EDGE_HEADER]);

class CodedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

// Its hop span covers the handshake; the instance it reaches is its child (no
// span of the call of its own, unlike exchange.ts).
export class UpgradeExchange implements HopTrace {
  traceId = '';
  spanId = '';
  parentSpanId = '';
  sampled = false;
  private readonly head: RequestHead;
  private readonly method: string;
  private readonly startedAt = performance.now();
  private readonly pick = new Pick();
  private backend: Backend | undefined;
  private route: RouteResult | undefined;
  private plan: readonly RegionTarget[] | null = null;
  private triedEndpoints: Endpoint[] | null = null;
  private triedRegions: RegionTarget[] | null = null;
  private baseHeaders = 0;
  private retries = 0;
  private tries = 0;
  private status = 0;
  private servedRegion = 'none';
  private hostKey = '';
  private requestId = '';
  private lastFailure: FailureKind | null = null;
  private lastDetail = '';
  private lastTarget: RegionTarget | null = null;
  private upstream: http.ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  // The client has its answer (101, the upstream's other answer, or ours).
  private answered = false;
  private recorded = false;
  private released = false;

  constructor(
    private readonly proxy: ExchangeContext,
    private readonly req: http.IncomingMessage,
    private readonly client: net.Socket,
    // What the client sent after its request head (first frames).
    private readonly bodyHead: Buffer,
  ) {
    this.head = new RequestHead(req.rawHeaders);
    this.method = req.method ?? 'GET';
  }

  start(): void {
    const { proxy, head, client } = this;
    client.on('error', () => client.destroy());
    client.once('close', () => this.clientClosed());
    beginHopTrace(this, head.traceparent, proxy.mode === 'ingress' && head.hops > 0, proxy.accessLog);

    if (proxy.draining) return this.reply(503, 'this gateway is draining; connect again', { retryAfterSeconds: 1 });
    if (proxy.mode === 'edge' && head.hops >= proxy.maxHops) {
      return this.reply(508, `loop detected: the request already passed ${head.hops} meridian gateway(s) (limit ${proxy.maxHops})`);
    }
    if (head.hostCount > 1) return this.reply(400, 'conflicting Host headers');
    // Only WebSocket goes through; the listener serves h2c as HTTP/1.1
    // (listener/upgrade-filter.ts).
    if (upgradeKind(this.req.headers.upgrade) !== 'websocket') {
      return this.reply(400, `upgrade to '${this.req.headers.upgrade ?? ''}' is not offered: only websocket upgrades are forwarded`);
    }
    // An ingress's mTLS boundary, as for requests (exchange.ts).
    const caller = client instanceof tls.TLSSocket ? proxy.authorizer?.authenticate(this.req) : undefined;
    if (caller !== undefined && isRefusal(caller)) return this.reply(caller.status, caller.message);
    const routed = routeRequest(proxy, head, this.req.url ?? '/', this.method, this.req);
    this.hostKey = routed.hostKey;
    if (!routed.ok) return this.reply(routed.status, routed.message, { retryAfterSeconds: routed.retryAfterSeconds });
    const denied = caller && proxy.authorizer!.permit(caller, routed.route.service, this.req);
    if (denied) return this.reply(denied.status, denied.message);
    const backend = (this.backend = routed.backend);
    this.route = routed.route;
    backend.metrics.inFlight.inc();
    const now = performance.now();
    backend.budget.onRequest(now);
    if (proxy.mode === 'ingress' && head.targetRegion !== undefined) {
      const relay = decideRelay(proxy.region, proxy.maxHops, head.targetRegion, head.hops, backend.relays);
      if (relay.kind === 'refuse') return this.reply(relay.status, relay.message);
      if (relay.kind === 'forward') this.plan = [relay.target];
    }

    const scheme = client instanceof tls.TLSSocket ? 'https' : 'http';
    this.requestId = addForwardedHeaders(head, client.remoteAddress, scheme, proxy.forwarding);
    head.headers.push('connection', 'upgrade', 'upgrade', 'websocket');
    this.baseHeaders = head.headers.length;
    this.timer = setTimeout(onHandshakeTimeout, backend.policy.requestTimeoutMs, this);
    if (!this.choose(now)) return this.reply(503, `no healthy instance of service '${backend.name}' in any region`, { retryAfterSeconds: 1 });
    this.connect(now);
  }

  private choose(now: number): boolean {
    const b = this.backend!;
    return pickRegion(this.plan ?? b.plan, b.balancer, b.policy.softInFlightPerRegion, this.triedRegions, this.triedEndpoints, now, this.pick);
  }

  private connect(now: number): void {
    const { proxy, pick } = this;
    const backend = this.backend!;
    const policy = backend.policy;
    const target = pick.target!;
    const endpoint = pick.endpoint;
    if (endpoint !== null) (this.triedEndpoints ??= []).push(endpoint);
    else (this.triedRegions ??= []).push(target);
    target.inFlight++;
    if (endpoint !== null) endpoint.outstanding++;
    this.tries++;
    this.lastTarget = target;

    const headers = this.head.headers;
    headers.length = this.baseHeaders;
    if (!target.local) headers.push(SERVICE_HEADER, backend.name, HOP_HEADER, String(this.head.hops + 1));
    if (target.relayVia !== undefined) headers.push(TARGET_REGION_HEADER, target.name);
    headers.push(TRACEPARENT_HEADER, formatTraceparent(this.traceId, this.spanId, this.sampled));

    const socket =
      endpoint !== null ? net.connect({ host: endpoint.address, port: endpoint.port, noDelay: true }) : proxy.openIngressConnection(target.ingressAddress);
    const connectTimer = setTimeout(() => socket.destroy(new CodedError(`connect timed out after ${policy.connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT')), policy.connectTimeoutMs);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    const upstream = http.request({ method: this.method, path: this.route!.url, headers, setHost: false, createConnection: () => socket });
    this.upstream = upstream;
    const headersTimeout = tryHeadersTimeoutMs(policy.perTryTimeoutMs, policy.requestTimeoutMs - (now - this.startedAt));
    const tryTimer = headersTimeout > 0 ? setTimeout(() => upstream.destroy(new CodedError('no answer within the per-try timeout', 'UND_ERR_HEADERS_TIMEOUT')), headersTimeout) : null;

    // Once per try: the in-flight counts go back down and the timers stop.
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(connectTimer);
      if (tryTimer !== null) clearTimeout(tryTimer);
      target.inFlight--;
      if (endpoint !== null) endpoint.outstanding--;
      return true;
    };

    upstream.on('upgrade', (res: http.IncomingMessage, upSocket: net.Socket, upHead: Buffer) => {
      if (!settle()) return;
      this.succeeded(target, endpoint, now);
      this.switched(target, res, upSocket, upHead);
    });
    upstream.on('response', (res: http.IncomingMessage) => {
      if (!settle()) return;
      const t = performance.now();
      const kind = failureOfStatus(res.statusCode ?? 0);
      if (kind !== undefined) {
        this.failed(target, endpoint, kind, `answered ${res.statusCode}`, t);
        if (kind !== '504' && this.planRetry(kind, t)) {
          res.resume();
          this.connect(t);
          return;
        }
      } else {
        this.succeeded(target, endpoint, now);
      }
      this.passOn(target, res);
    });
    upstream.on('error', (err: Error) => {
      if (!settle() || this.answered) return;
      const t = performance.now();
      const kind = classifyUpstreamError(err);
      this.failed(target, endpoint, kind, describeUpstreamError(err), t);
      if (this.planRetry(kind, t)) {
        this.connect(t);
        return;
      }
      this.upstreamFailed(kind);
    });
    upstream.end();
  }

  // The upstream switched protocols: its 101 to the client, then the pipe.
  private switched(target: RegionTarget, res: http.IncomingMessage, upSocket: net.Socket, upHead: Buffer): void {
    const client = this.client;
    if (this.answered || client.destroyed) {
      upSocket.destroy();
      return;
    }
    this.answered = true;
    this.status = 101;
    this.servedRegion = target.name;
    let region = target.name;
    let out = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
    const raw = res.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const lower = raw[i].toLowerCase();
      if (lower === EDGE_HEADER) continue;
      if (lower === REGION_HEADER) {
        // What the remote ingress said served it; ours for a local instance.
        if (!target.local) region = raw[i + 1];
        continue;
      }
      out += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    client.write(`${out}${REGION_HEADER}: ${region}\r\n${EDGE_HEADER}: ${this.proxy.name}\r\n\r\n`);
    if (upHead.length > 0) client.write(upHead);
    if (this.bodyHead.length > 0) upSocket.write(this.bodyHead);
    upSocket.setNoDelay(true);
    this.record();
    tunnel(client, upSocket, this.backend!.policy.idleTimeoutMs, () => this.release());
  }

  // Any answer but 101: passed on, then the connection closes.
  private passOn(target: RegionTarget, res: http.IncomingMessage): void {
    const client = this.client;
    if (this.answered || client.destroyed) {
      res.destroy();
      return;
    }
    this.answered = true;
    this.status = res.statusCode ?? 502;
    this.servedRegion = target.name;
    let region = target.name;
    let out = `HTTP/1.1 ${this.status} ${res.statusMessage ?? ''}\r\n`;
    const raw = res.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const lower = raw[i].toLowerCase();
      if (HOP_BY_HOP.has(lower)) continue;
      if (lower === REGION_HEADER) {
        if (!target.local) region = raw[i + 1];
        continue;
      }
      out += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    client.write(`${out}${REGION_HEADER}: ${region}\r\n${EDGE_HEADER}: ${this.proxy.name}\r\nconnection: close\r\n\r\n`);
    res.on('error', () => client.destroy());
    res.on('aborted', () => client.destroy());
    res.pipe(client);
    this.record();
  }

  private planRetry(kind: FailureKind, now: number): boolean {
    const backend = this.backend!;
    const policy = backend.policy;
    if (this.answered || this.client.destroyed || this.retries >= policy.attempts) return false;
    if (!isRetryable(kind, policy.retryOn, isIdempotent(this.method, this.head.idempotencyKey))) return false;
    // A connect failure sent nothing: no budget (exchange.ts planRetry).
    const budgeted = kind !== 'connect-failure';
    if ((budgeted && !backend.budget.canRetry(now)) || !this.choose(now)) return false;
    if (budgeted) backend.budget.takeRetry(now);
    this.retries++;
    backend.metrics.retries.inc();
    return true;
  }

  private succeeded(target: RegionTarget, endpoint: Endpoint | null, startedAt: number): void {
    const now = performance.now();
    if (endpoint !== null) this.backend!.balancer.onSuccess(endpoint, now - startedAt, now);
    target.breaker.onSuccess();
  }

  private failed(target: RegionTarget, endpoint: Endpoint | null, kind: FailureKind, detail: string, now: number): void {
    const backend = this.backend!;
    this.lastFailure = kind;
    this.lastDetail = detail;
    backend.metrics.upstreamError(target.name, kind);
    if (endpoint !== null && backend.balancer.onFailure(endpoint, now) > 0) backend.metrics.ejections.inc();
    target.breaker.onFailure(now);
  }

  private upstreamFailed(kind: FailureKind): void {
    const service = this.backend!.name;
    const where = this.lastTarget === null || this.lastTarget.local ? '' : ` via region '${this.lastTarget.name}'`;
    const tries = this.tries === 1 ? '1 try' : `${this.tries} tries`;
    if (kind === 'timeout') return this.reply(504, `upstream of service '${service}'${where} did not answer the upgrade in time: ${this.lastDetail} (${tries})`);
    this.reply(502, `upstream ${kind} for service '${service}'${where}: ${this.lastDetail} (${tries})`);
  }

  handshakeTimeout(): void {
    this.timer = null;
    if (this.answered) return;
    this.lastFailure = 'timeout';
    this.upstream?.destroy();
    this.reply(504, `upstream did not answer the upgrade within ${this.backend!.policy.requestTimeoutMs} ms`);
  }

  private clientClosed(): void {
    if (this.answered) {
      // A passed-on answer is over; a tunnel releases when both sides are.
      if (this.status !== 101) this.release();
      return;
    }
    // Gone during the handshake: the try is abandoned.
    this.answered = true;
    this.status = CLIENT_CLOSED;
    this.upstream?.destroy();
    this.record();
    this.release();
  }

  private reply(status: number, message: string, options?: LocalReplyOptions): void {
    if (this.answered) return;
    this.answered = true;
    this.status = status;
    sendRawReply(this.client, status, message, this.proxy.name, options);
    this.record();
    this.release();
  }

  // Metrics and access log, once the client has its answer.
  private record(): void {
    if (this.recorded) return;
    this.recorded = true;
    if (this.timer !== null) clearTimeout(this.timer);
    recordExchange(this.proxy, {
      backend: this.backend,
      servedRegion: this.servedRegion,
      status: this.status,
      startedAt: this.startedAt,
      method: this.method,
      hostKey: this.hostKey,
      url: this.req.url ?? '',
      tries: this.tries,
      requestId: this.requestId,
      remote: this.client.remoteAddress,
      protocol: `HTTP/${this.req.httpVersion} upgrade ${this.req.headers.upgrade ?? ''}`,
      lastFailure: this.lastFailure,
      lastDetail: this.lastDetail,
      trace: this,
    });
  }

  // The connection is over (or answered and closing): no longer in flight.
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.proxy.exchangeDone(this.req);
  }
}

function onHandshakeTimeout(exchange: UpgradeExchange): void {
  exchange.handshakeTimeout();
}
