// One protocol upgrade (WebSocket) through the gateway: the same stack as a
// request (exchange.ts) with a connection where a request has a response.
// Admitted and routed the same way (admission.ts, route-request.ts: host and
// path to a service, the same forwarded headers, request id, traceparent and
// hop header), then the attempt loop (attempt-loop.ts) sends its tries as
// connect attempts (connect-attempt.ts) to the chosen instance, or to the
// remote region's ingress, which routes it the same way to one of its
// instances. The upstream's 101 goes to the client and the two sockets are
// piped (tunnel.ts); any other answer is passed on and the connection
// closed. A try that fails before an answer (connect failure, reset,
// per-try timeout) or answers 502/503 goes to the next instance or region,
// as a request's would. Any protocol but WebSocket is answered 400 (h2c
// never gets here: the listener serves it as HTTP/1.1).
import type * as http from 'node:http';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { Endpoint } from '../balancer/endpoint';
import type { VerifiedCaller } from '../identity/ingress-authorizer';
import type { MeshCaller } from '../identity/mesh-authorizer';
import { beginHopTrace } from '../observability/hop-trace';
import type { RegionTarget } from '../region-picker/region-target';
import { failureOfStatus, isIdempotent } from '../resilience/retry-policy';
import { addForwardedHeaders } from '../router/forwarded-headers';
import { formatTraceparent, TRACEPARENT_HEADER } from '../../lib/tracing/traceparent';
import { authenticateCaller, checkHead, type AdmittedCaller } from './admission';
import { AttemptLoop } from './attempt-loop';
import { ConnectAttempt, type ConnectAttemptOwner } from './connect-attempt';
import type { ExchangeContext } from './exchange-context';
import { sendRawReply, type LocalReplyOptions, type Refusal } from './local-reply';
import { CLIENT_CLOSED, recordExchange } from './record-exchange';
import { RequestHead } from './request-head';
import { EDGE_HEADER, REGION_HEADER } from './response-headers';
import { routeRequest } from './route-request';
import { tunnel } from './tunnel';

// Not passed from an upstream's non-101 answer to the client (the connection
// closes after it; its body is passed decoded).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', EDGE_HEADER]);

// Whether an Upgrade header asks for WebSocket (one of its tokens).
function asksWebSocket(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  for (const token of upgrade.split(',')) if (token.trim().toLowerCase() === 'websocket') return true;
  return false;
}

// Its hop span covers the handshake; the instance it reaches is its child (no
// span of the call of its own, unlike exchange.ts). `done` once the client
// has its answer (101, the upstream's other answer, or ours).
export class UpgradeExchange extends AttemptLoop implements AdmittedCaller, ConnectAttemptOwner {
  declare attempt: ConnectAttempt | null;
  ingressCaller: VerifiedCaller | undefined = undefined;
  meshCaller: MeshCaller | undefined = undefined;
  private readonly method: string;
  private status = 0;
  private requestId = '';
  private released = false;

  constructor(
    proxy: ExchangeContext,
    private readonly req: http.IncomingMessage,
    private readonly client: net.Socket,
    // What the client sent after its request head (first frames).
    private readonly bodyHead: Buffer,
  ) {
    super(proxy, new RequestHead(req.rawHeaders), 'answer the upgrade');
    this.method = req.method ?? 'GET';
  }

  start(): void {
    const { proxy, head, client } = this;
    client.on('error', () => client.destroy());
    client.once('close', () => this.clientClosed());
    beginHopTrace(this, head.traceparent, proxy.mode === 'ingress' && head.hops > 0, proxy.accessLog);

    if (proxy.draining) return this.reply(503, 'this gateway is draining; connect again', { retryAfterSeconds: 1 });
    const refusedHead = checkHead(proxy, head);
    if (refusedHead !== null) return this.refuse(refusedHead);
    // Only WebSocket goes through; the listener serves h2c as HTTP/1.1.
    if (!asksWebSocket(this.req.headers.upgrade)) {
      return this.reply(400, `upgrade to '${this.req.headers.upgrade ?? ''}' is not offered: only websocket upgrades are forwarded`);
    }
    // Upgrades come from the public listeners only (the mesh listener
    // refuses them): an ingress's mTLS caller, if any.
    const scheme = client instanceof tls.TLSSocket ? 'https' : 'http';
    const now = this.startedAt;
    const refused =
      authenticateCaller(proxy, this.req, scheme, 'public', this) ??
      routeRequest(proxy, head, this.req.url ?? '/', this.method, this.req, 'public', this.ingressCaller, undefined, this, now);
    if (refused !== null) return this.refuse(refused);
    const backend = this.backend!;

    this.idempotent = isIdempotent(this.method, head.idempotencyKey);
    this.requestId = addForwardedHeaders(head, client.remoteAddress, scheme, proxy.forwarding);
    head.headers.push('connection', 'upgrade', 'upgrade', 'websocket');
    this.baseHeaders = head.headers.length;
    this.armTimeout(backend.policy.requestTimeoutMs);
    this.first(now);
  }

  // A try: a new connection and the handshake on it.
  protected send(target: RegionTarget, endpoint: Endpoint | null, headers: string[], headersTimeout: number, now: number): void {
    headers.push(TRACEPARENT_HEADER, formatTraceparent(this.traceId, this.spanId, this.sampled));
    const request = { method: this.method, path: this.route!.url, headers, connectTimeoutMs: this.backend!.policy.connectTimeoutMs };
    const attempt = new ConnectAttempt(this, target, endpoint, now, request, this.proxy.openIngressConnection);
    this.attempt = attempt;
    attempt.armHeadersTimer(headersTimeout);
  }

  protected mayRetry(): boolean {
    return !this.client.destroyed;
  }

  // The upstream switched protocols: its 101 to the client, then the pipe.
  onAttemptSwitched(attempt: ConnectAttempt, res: http.IncomingMessage, upSocket: net.Socket, upHead: Buffer): void {
    this.judgeAnswer(attempt, 101, undefined, performance.now());
    const client = this.client;
    if (attempt !== this.attempt || this.done || client.destroyed) {
      upSocket.destroy();
      return;
    }
    const target = attempt.target;
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

  // Any answer but 101: a retry for a 502/503 when one is left; else passed
  // on, then the connection closes.
  onAttemptAnswer(attempt: ConnectAttempt, res: http.IncomingMessage): void {
    if (attempt !== this.attempt || this.done) {
      res.destroy();
      return;
    }
    const status = res.statusCode ?? 0;
    if (this.judgeAnswer(attempt, status, failureOfStatus(status), performance.now())) {
      res.resume();
      this.retry(attempt);
      return;
    }
    const client = this.client;
    if (client.destroyed) {
      res.destroy();
      return;
    }
    const target = attempt.target;
    this.status = status || 502;
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

  onAttemptError(attempt: ConnectAttempt, err: Error): void {
    if (attempt !== this.attempt || this.done) return;
    this.judgeError(attempt, err, performance.now());
  }

  protected timedOut(): void {
    this.lastFailure = 'timeout';
    this.attempt?.abandon();
    this.reply(504, `upstream did not answer the upgrade within ${this.timeoutMs} ms`);
  }

  private clientClosed(): void {
    if (this.done) {
      // A passed-on answer is over; a tunnel releases when both sides are.
      if (this.status !== 101) this.release();
      return;
    }
    // Gone during the handshake: the try is abandoned.
    this.status = CLIENT_CLOSED;
    this.attempt?.abandon();
    this.record();
    this.release();
  }

  private refuse(r: Refusal): void {
    this.reply(r.status, r.message, r);
  }

  protected reply(status: number, message: string, options?: LocalReplyOptions): void {
    if (this.done) return;
    this.status = status;
    sendRawReply(this.client, status, message, this.proxy.name, options);
    this.record();
    this.release();
  }

  // Metrics and access log, once the client has its answer: done.
  private record(): void {
    if (this.done) return;
    this.done = true;
    this.stopTimeout();
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
