// One request's way through the gateway, from the listener's callback to the
// last byte of the response: route it, read or stream its body, pick a region
// and an instance for each try, stream the answer back, and retry what may be
// retried. One Exchange object per request and one small AttemptHandler per
// try (undici's dispatch handler); no closures on the way of a plain GET.
//
//   listener -> Proxy.handle -> Exchange.start
//     router (host, path, TrafficRoute)          ../router/
//     body: none | buffered (replayable) | streamed
//     choose: region picker + balancer            ../region-picker/, ../balancer/
//     dispatch: undici Pool (instance or ingress) ../upstream/
//     response: headers, data (with backpressure), end | error -> retry?  ../resilience/
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import type { Backend } from '../backend/backend';
import type { Endpoint } from '../balancer/endpoint';
import type { ExchangeContext } from './exchange-context';
import { Pick, pickRegion } from '../region-picker/region-picker';
import type { RegionTarget } from '../region-picker/region-target';
import { addForwardedHeaders } from '../router/forwarded-headers';
import { normalizeHost } from '../router/host';
import { PathRefusal } from '../router/normalize-path';
import { pathOf } from '../router/path-prefix';
import type { RouteResult } from '../router/router';
import { failureOfStatus, isIdempotent, isRetryable, type FailureKind } from '../resilience/retry-policy';
import { tryHeadersTimeoutMs } from '../resilience/timeouts';
import { classifyUpstreamError, describeUpstreamError } from '../upstream/upstream-error';
import { PathDeadError } from '../upstream/ingress-path-check';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { abortResponse, isHttp2, writer, type ClientRequest, type ClientResponse } from './client-types';
import { sendLocalReply, type LocalReplyOptions } from './local-reply';
import { BodyTooLargeError, hasBody, readBody, REPLAYABLE_BODY_LIMIT, StreamedBody, type BodyRead } from './request-body';
import { HOP_HEADER, PORT_HEADER, RequestHead, SERVICE_HEADER, SOURCE_IDENTITY_HEADER, TARGET_REGION_HEADER } from './request-head';
import { isMeshRefusal, type MeshCaller } from '../identity/mesh-authorizer';
import { meshTarget } from './mesh-target';
import { portNamed } from '../backend/service-ports';
import type { RequestEntry } from './exchange-context';
import { decideRelay } from '../relay/relay-decision';
import { prepareResponseHeaders } from './response-headers';
import { recordExchange } from './record-exchange';
import { resolveTarget } from './route-request';
import { isRefusal } from '../identity/ingress-authorizer';
import { beginHopTrace, INSTANCE_CALL_SPAN, type HopTrace } from '../observability/hop-trace';
import { newSpanId } from '../../lib/tracing/trace-ids';
import { formatTraceparent, TRACEPARENT_HEADER } from '../../lib/tracing/traceparent';

const kExchange = Symbol('meridian.exchange');

type Controller = Dispatcher.DispatchController;

function onHeadersLate(attempt: AttemptHandler): void {
  attempt.headersDue();
}

function onPathCheckDue(attempt: AttemptHandler): void {
  attempt.pathCheckDue();
}

// An idempotent try to a remote region with no response headers after this
// long has the path to the ingress checked (upstream/ingress-path-check.ts),
// and again every as long while it waits: a dead path fails the try, which
// is retried; a live one lets a slow service take its time. Independent of
// the policy's perTryTimeout, which ends a try whatever the path.
export const REMOTE_PATH_CHECK_MS = 500;
// While a request waits for the view to move its region off a dead path,
// how often it looks.
const PATH_WAIT_POLL_MS = 25;

// Status recorded when the client went away before the response was complete.
export const CLIENT_CLOSED = 499;

class AttemptHandler implements Dispatcher.DispatchHandler {
  controller: Controller | null = null;
  // A 502/503 answer being read to its end before the retry goes out.
  retryAfterDrain = false;
  // The answer's status, 0 until its headers came.
  status = 0;
  private released = false;
  // The per-try deadline for the answer's headers. Our own timer: undici's
  // headersTimeout runs on its coarse timers (about a second of slack), too
  // coarse for per-try timeouts of a few hundred milliseconds.
  private headersTimer: NodeJS.Timeout | null = null;
  private headersLate = false;
  // Remote tries: the pool and its generation the try went to, and the
  // check of its path (see REMOTE_PATH_CHECK_MS).
  dispatcher: UpstreamDispatcher | null = null;
  generation = 0;
  // The ingress it went to, and whether through a relay.
  address = '';
  relayed = false;
  private pathTimer: NodeJS.Timeout | null = null;
  // The path was found dead: the try failed, whatever undici says later.
  pathDead = false;

  constructor(
    readonly exchange: Exchange,
    readonly target: RegionTarget,
    readonly endpoint: Endpoint | null,
    readonly startedAt: number,
    // The span of a call to an instance; '' for a try sent to an ingress.
    readonly spanId: string,
  ) {}

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    // Superseded while it waited in the pool's queue (timeout, client gone).
    if (this.exchange.attempt !== this || this.exchange.done || this.pathDead) controller.abort(new Error('request no longer wanted'));
    else if (this.headersLate) controller.abort(new errors.HeadersTimeoutError());
  }

  armPathCheck(): void {
    this.pathTimer = setTimeout(onPathCheckDue, REMOTE_PATH_CHECK_MS, this);
  }

  pathCheckDue(): void {
    this.pathTimer = null;
    if (this.status !== 0 || this.released) return;
    // Sent direct, and the view relays the region now: the zone's probes
    // found this path dead already.
    if (!this.relayed && this.target.relayVia !== undefined) return this.failOnDeadPath();
    void this.dispatcher!.pathAlive!(this.generation, this.target.cost).then((alive) => {
      if (this.status !== 0 || this.released) return;
      if (alive) this.armPathCheck();
      else this.failOnDeadPath();
    });
  }

  private failOnDeadPath(): void {
    this.pathDead = true;
    const err = new PathDeadError(this.address, performance.now() - this.startedAt);
    // Still queued (its connection not made): failed here; undici's own
    // end of it later finds it released.
    if (this.controller === null) this.exchange.onAttemptError(this, err);
    else this.controller.abort(err);
  }

  armHeadersTimer(ms: number): void {
    if (ms > 0) this.headersTimer = setTimeout(onHeadersLate, ms, this);
  }

  headersDue(): void {
    this.headersTimer = null;
    if (this.status !== 0 || this.released) return;
    this.headersLate = true;
    this.controller?.abort(new errors.HeadersTimeoutError());
  }

  onResponseStart(controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    if (this.headersTimer !== null) {
      clearTimeout(this.headersTimer);
      this.headersTimer = null;
    }
    this.exchange.onAttemptHeaders(this, controller, status, headers);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.retryAfterDrain) this.exchange.onAttemptData(this, controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    // undici 7's HTTP/2 client hands its trailers over as an object, which
    // its handler adapter parses as a list into {}: take them raw.
    const raw = controller.rawTrailers;
    this.exchange.onAttemptEnd(this, raw != null && !Array.isArray(raw) ? (raw as IncomingHttpHeaders) : trailers);
  }

  onResponseError(_controller: Controller, err: Error): void {
    if (this.pathDead && this.released) return;
    this.exchange.onAttemptError(this, err);
  }

  // Exactly once per try: the in-flight counts it raised go back down, and a
  // sampled call to an instance leaves its span.
  release(err: Error | null): void {
    if (this.released) return;
    this.released = true;
    if (this.headersTimer !== null) {
      clearTimeout(this.headersTimer);
      this.headersTimer = null;
    }
    if (this.pathTimer !== null) {
      clearTimeout(this.pathTimer);
      this.pathTimer = null;
    }
    this.target.inFlight--;
    if (this.endpoint !== null) {
      this.endpoint.outstanding--;
      if (this.exchange.sampled) this.exchange.logInstanceCall(this, err);
    }
  }
}

function onResponseClose(this: ClientResponse): void {
  const exchange = (this as unknown as { [kExchange]?: Exchange })[kExchange];
  if (exchange !== undefined && !exchange.done) exchange.clientGone();
}

function onRequestTimeout(exchange: Exchange): void {
  exchange.timeout();
}

function onRetryBackoff(exchange: Exchange): void {
  if (!exchange.done) exchange.dispatch(performance.now());
}

function onPathWait(exchange: Exchange): void {
  exchange.pollPath();
}

export class Exchange implements HopTrace {
  done = false;
  traceId = '';
  spanId = '';
  parentSpanId = '';
  sampled = false;
  status = 0;
  route: RouteResult | undefined = undefined;
  backend: Backend | undefined = undefined;
  requestId = '';
  attempt: AttemptHandler | null = null;
  tries = 0;
  servedRegion = 'none';
  // A request of the mesh listener: who called.
  meshCaller: MeshCaller | undefined = undefined;
  // At an ingress: the source identity a verified proxy named (x-meridian-source-identity).
  private vouchedSource: string | undefined = undefined;
  private readonly startedAt = performance.now();
  private readonly head: RequestHead;
  private readonly method: string;
  private hostKey = '';
  private idempotent = false;
  private body: Buffer | Readable | null = null;
  private replayable = true;
  private streamed: StreamedBody | null = null;
  private maxBody = 0;
  private retries = 0;
  private baseHeaders = 0;
  private triedEndpoints: Endpoint[] | null = null;
  private triedRegions: RegionTarget[] | null = null;
  // The regions this request may go to: its backend's plan, or at an ingress
  // relaying it, only the target region.
  private plan: readonly RegionTarget[] | null = null;
  private readonly pick = new Pick();
  private timer: NodeJS.Timeout | null = null;
  private timeoutMs = 0;
  private paused: Controller | null = null;
  // Content-Length of the answer while its first chunk is awaited, else -1.
  private wholeBody = -1;
  private bodyEnded = false;
  private onDrain: (() => void) | null = null;
  private lastFailure: FailureKind | null = null;
  private lastDetail = '';
  private lastTarget: RegionTarget | null = null;
  // The try whose path was dead, while the retry waits for its region's
  // path to change (pollPath).
  private deadPathTry: AttemptHandler | null = null;
  private pathChecking = false;

  constructor(
    private readonly proxy: ExchangeContext,
    private readonly req: ClientRequest,
    private readonly res: ClientResponse,
    private readonly scheme: 'http' | 'https',
    // The public listeners, or the mesh listener of the region's workloads.
    private readonly entry: RequestEntry = 'public',
  ) {
    this.head = new RequestHead(req.rawHeaders);
    this.method = req.method ?? 'GET';
  }

  start(): void {
    const proxy = this.proxy;
    const head = this.head;
    (this.res as unknown as { [kExchange]: Exchange })[kExchange] = this;
    this.res.on('close', onResponseClose);
    beginHopTrace(this, head.traceparent, proxy.mode === 'ingress' && head.hops > 0, proxy.accessLog);

    if (proxy.mode === 'edge' && head.hops >= proxy.maxHops) {
      return this.reply(508, `loop detected: the request already passed ${head.hops} meridian gateway(s) (limit ${proxy.maxHops})`);
    }
    if (head.hostCount > 1) return this.reply(400, 'conflicting Host headers', { close: true });
    if (head.conflictingContentLength || (head.transferEncoding && head.contentLength >= 0)) {
      return this.reply(400, 'ambiguous request body framing', { close: true });
    }

    // An ingress's mTLS boundary, or the mesh listener's: who calls, before
    // anything is routed.
    const caller = this.scheme === 'https' && this.entry === 'public' ? proxy.authorizer?.authenticate(this.req) : undefined;
    if (caller !== undefined && isRefusal(caller)) return this.reply(caller.status, caller.message);
    if (this.entry === 'mesh') {
      const meshCaller = proxy.meshAuthorizer!.authenticate(this.req, this.scheme === 'https');
      if (isMeshRefusal(meshCaller)) return this.reply(meshCaller.status, meshCaller.message);
      this.meshCaller = meshCaller;
    }

    // Absolute form: its authority becomes head.host; the path normalized.
    const url = resolveTarget(head, this.req.url ?? '/');
    this.hostKey = normalizeHost(head.host);
    if (url instanceof PathRefusal) return this.reply(400, url.reason);

    const router = proxy.router;
    let port: string | undefined;
    let route: RouteResult | undefined;
    if (this.entry === 'mesh') {
      const target = meshTarget(this.hostKey, head.host, this.req.socket?.localPort, proxy.meshListenerPorts, (name) => proxy.backends.service(name));
      if (typeof target === 'string') return this.reply(404, target);
      route = router.mesh(target.service, url, this.method, this.req);
      port = route.backend === route.service ? target.port : undefined;
      const denied = proxy.meshAuthorizer!.permit(this.meshCaller!, route.service, route.backend);
      if (denied) return this.reply(denied.status, denied.message);
    } else if (proxy.mode === 'ingress' && head.meshService !== undefined) {
      route = router.direct(head.meshService, url);
      port = head.meshPort;
    } else {
      route = router.route(this.hostKey, url, this.method, this.req);
    }
    if (route === undefined) {
      if (this.hostKey === '') return this.reply(400, 'the request names no host');
      return this.reply(
        404,
        router.hasHost(this.hostKey)
          ? `no route for path '${pathOf(url)}' on host '${this.hostKey}'`
          : `no service is configured for host '${this.hostKey}'`,
      );
    }
    const denied = caller && proxy.authorizer!.permit(caller, route.service, this.req, head.sourceIdentity);
    if (denied) return this.reply(denied.status, denied.message);
    // Passed on (a relay) only when a verified proxy said it and permit took its word.
    if (caller !== undefined) this.vouchedSource = proxy.authorizer!.vouchedSource(caller, head.sourceIdentity);
    this.route = route;
    // A proxy names the port (x-meridian-port); a tcp one is reached only by meridian-tcp.
    if (port !== undefined && portNamed(proxy.backends.service(route.backend), port)?.protocol === 'tcp') {
      return this.reply(404, `service '${route.backend}' port '${port}' is a tcp port: HTTP requests are not sent to it`);
    }
    const backend = proxy.backends.get(route.backend, port);
    if (backend === undefined) {
      if (port !== undefined && proxy.backends.service(route.backend) !== undefined) return this.reply(404, `service '${route.backend}' has no port '${port}'`);
      return this.reply(503, noInstanceMessage(route.backend), { retryAfterSeconds: 1 });
    }
    this.backend = backend;
    backend.metrics.inFlight.inc();
    // Arrival time stands for now: routing took microseconds.
    const now = this.startedAt;
    backend.budget.onRequest(now);
    if (proxy.mode === 'ingress' && head.targetRegion !== undefined) {
      const relay = decideRelay(proxy.region, proxy.maxHops, head.targetRegion, head.hops, backend.relays);
      if (relay.kind === 'refuse') return this.reply(relay.status, relay.message);
      if (relay.kind === 'forward') this.plan = [relay.target];
    }
    const policy = backend.policy;

    this.idempotent = isIdempotent(this.method, head.idempotencyKey);
    this.requestId = addForwardedHeaders(head, this.req.socket?.remoteAddress, this.scheme, proxy.forwarding);
    // gRPC servers may check it; it means something only on HTTP/2.
    if (head.teTrailers && policy.http2) head.headers.push('te', 'trailers');
    this.baseHeaders = head.headers.length;
    this.timeoutMs = policy.requestTimeoutMs;
    this.timer = setTimeout(onRequestTimeout, this.timeoutMs, this);

    if (!hasBody(this.req, head)) {
      this.first(now);
      return;
    }
    // The limits of the service the host and path named, even when a split
    // sends the request elsewhere.
    const maxBody = (route.service === route.backend ? backend : proxy.backends.get(route.service) ?? backend).policy.maxRequestBodyBytes;
    const length = head.contentLength;
    if (length > maxBody) {
      return this.reply(413, `request body of ${length} bytes exceeds the limit of ${maxBody} bytes for service '${route.service}'`, { close: true });
    }
    this.maxBody = maxBody;
    if (length < 0 && policy.http2) {
      // Unknown length to an HTTP/2 service (gRPC): streamed from the first
      // byte, since a streaming call waits for answers before it sends more.
      this.replayable = false;
      this.streamed = new StreamedBody(this.req, [], 0, maxBody);
      this.body = this.streamed.stream;
      this.first(now);
      return;
    }
    if (length > REPLAYABLE_BODY_LIMIT) {
      // Known and long: streamed as it comes, Content-Length kept.
      this.replayable = false;
      this.head.headers.push('content-length', head.contentLengthRaw!);
      this.baseHeaders = head.headers.length;
      this.body = this.req;
      this.first(now);
      return;
    }
    readBody(this.req, length, maxBody).then(
      (read) => this.bodyRead(read),
      (err: Error) => this.bodyFailed(err),
    );
  }

  private bodyRead(read: BodyRead): void {
    if (this.done) return;
    if (read.complete) {
      this.body = read.body;
    } else {
      this.replayable = false;
      this.streamed = read.body;
      this.body = read.body.stream;
    }
    this.first(performance.now());
  }

  private bodyFailed(err: Error): void {
    if (this.done) return;
    if (err instanceof BodyTooLargeError) {
      return this.reply(413, `request body exceeds the limit of ${this.maxBody} bytes for service '${this.route!.service}'`, { close: true });
    }
    this.clientGone();
  }

  private first(now: number): void {
    if (this.done) return;
    if (!this.choose(now)) {
      this.noTarget(now);
      return;
    }
    this.dispatch(now);
  }

  // Fills this.pick with the region and instance for the next try: first
  // ones not tried yet; then, for the local region, ones already tried;
  // then `again`, a remote region whose try found its path dead (the try
  // reached nothing: the region may be tried again once its path changed).
  private choose(now: number, again: RegionTarget | null = null): boolean {
    const b = this.backend!;
    const soft = b.policy.softInFlightPerRegion;
    const plan = this.plan ?? b.plan;
    if (pickRegion(plan, b.balancer, soft, this.triedRegions, this.triedEndpoints, now, this.pick)) return true;
    if (this.triedEndpoints !== null && pickRegion(plan, b.balancer, soft, this.triedRegions, null, now, this.pick)) return true;
    const tried = this.triedRegions;
    if (again === null || tried === null || !tried.includes(again)) return false;
    tried.splice(tried.indexOf(again), 1);
    return pickRegion(plan, b.balancer, soft, tried, null, now, this.pick);
  }

  dispatch(now: number): void {
    const target = this.pick.target!;
    const endpoint = this.pick.endpoint;
    const backend = this.backend!;
    const policy = backend.policy;
    if (endpoint !== null) (this.triedEndpoints ??= []).push(endpoint);
    else (this.triedRegions ??= []).push(target);
    target.inFlight++;
    if (endpoint !== null) endpoint.outstanding++;

    const headers = this.head.headers;
    headers.length = this.baseHeaders;
    if (!target.local) {
      headers.push(SERVICE_HEADER, backend.name, HOP_HEADER, String(this.head.hops + 1));
      if (backend.port !== undefined) headers.push(PORT_HEADER, backend.port);
      // An ingress relaying a workload's request passes its identity on.
      const source = this.meshCaller?.identity ?? this.vouchedSource;
      if (source !== undefined) headers.push(SOURCE_IDENTITY_HEADER, source);
    }
    if (target.relayVia !== undefined) headers.push(TARGET_REGION_HEADER, target.name);
    // To an instance, a sampled call is a span of its own (an unsampled one is
    // logged nowhere: its id would be one more string for nothing); an
    // ingress opens its own span.
    const spanId = endpoint !== null && this.sampled ? newSpanId() : '';
    headers.push(TRACEPARENT_HEADER, formatTraceparent(this.traceId, spanId === '' ? this.spanId : spanId, this.sampled));

    const attempt = new AttemptHandler(this, target, endpoint, now, spanId);
    this.attempt = attempt;
    this.tries++;
    this.lastTarget = target;
    const dispatcher = endpoint !== null ? endpoint.dispatcher : target.ingress!;
    const headersTimeout = tryHeadersTimeoutMs(policy.perTryTimeoutMs, this.timeoutMs - (now - this.startedAt));
    attempt.armHeadersTimer(headersTimeout);
    if (endpoint === null && this.idempotent && dispatcher.pathAlive !== undefined) {
      attempt.dispatcher = dispatcher;
      attempt.generation = dispatcher.generation ?? 0;
      attempt.address = target.ingressAddress;
      attempt.relayed = target.relayVia !== undefined;
      attempt.armPathCheck();
    }
    try {
      dispatcher.dispatch(
        {
          path: this.route!.url,
          method: this.method,
          headers,
          body: this.body,
          // undici's own, coarse: a backstop behind the attempt's timer.
          headersTimeout,
          bodyTimeout: policy.idleTimeoutMs,
        },
        attempt,
      );
    } catch (err) {
      attempt.onResponseError(null as unknown as Controller, err as Error);
    }
  }

  onAttemptHeaders(attempt: AttemptHandler, controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (attempt !== this.attempt || this.done) {
      controller.abort(new Error('request no longer wanted'));
      return;
    }
    const now = performance.now();
    const kind = failureOfStatus(status);
    if (kind !== undefined) {
      this.failed(attempt, kind, `answered ${status}`, now);
      if (kind !== '504' && this.planRetry(kind, now)) {
        attempt.retryAfterDrain = true;
        return;
      }
    } else {
      this.succeeded(attempt, now);
    }
    const target = attempt.target;
    const proxy = this.proxy;
    this.status = status;
    this.servedRegion = target.name;
    const close = proxy.draining && !isHttp2(this.req);
    // From a local HTTP/1.1 instance (no trailers with a Content-Length), a
    // body that comes in one chunk ends the response with that chunk.
    if (attempt.endpoint !== null && !this.backend!.policy.http2) {
      const length = headers['content-length'];
      if (length !== undefined) this.wholeBody = Number(length);
    }
    try {
      writer(this.res).writeHead(status, prepareResponseHeaders(headers, target.name, !target.local, proxy.name, close));
    } catch (err) {
      controller.abort(err as Error);
      this.reply(502, `invalid response headers from service '${this.backend!.name}': ${(err as Error).message}`);
    }
  }

  onAttemptData(attempt: AttemptHandler, controller: Controller, chunk: Buffer): void {
    if (attempt !== this.attempt || this.done) return;
    const whole = this.wholeBody;
    if (whole >= 0) {
      this.wholeBody = -1;
      if (chunk.length === whole) {
        // The whole body in one chunk: ended with it, one write to the client.
        this.bodyEnded = true;
        writer(this.res).end(chunk);
        return;
      }
    }
    if (!writer(this.res).write(chunk)) {
      controller.pause();
      this.paused = controller;
      this.onDrain ??= () => {
        const c = this.paused;
        this.paused = null;
        c?.resume();
      };
      writer(this.res).once('drain', this.onDrain);
    }
  }

  onAttemptEnd(attempt: AttemptHandler, trailers: IncomingHttpHeaders): void {
    attempt.release(null);
    if (attempt !== this.attempt || this.done) return;
    if (attempt.retryAfterDrain) {
      this.retry(attempt);
      return;
    }
    if (!this.bodyEnded) {
      const w = writer(this.res);
      for (const _ in trailers) {
        w.addTrailers(trailers);
        break;
      }
      w.end();
    }
    this.finish();
  }

  onAttemptError(attempt: AttemptHandler, err: Error): void {
    attempt.release(err);
    if (attempt !== this.attempt || this.done) return;
    if (attempt.retryAfterDrain) {
      // The 502/503 being discarded broke off: the retry goes out anyway.
      this.retry(attempt);
      return;
    }
    const now = performance.now();
    if (this.res.headersSent) {
      // Response bytes went out: no retry, the client sees a broken response.
      this.failed(attempt, 'reset', describeUpstreamError(err), now);
      abortResponse(this.res);
      this.finish();
      return;
    }
    if (this.streamed?.exceeded) {
      return this.reply(413, `request body exceeds the limit of ${this.maxBody} bytes for service '${this.route!.service}'`, { close: true });
    }
    const kind = classifyUpstreamError(err);
    this.failed(attempt, kind, describeUpstreamError(err), now);
    if (this.planRetry(kind, now, attempt.pathDead ? attempt.target : null)) {
      this.retry(attempt);
      return;
    }
    this.upstreamFailed(kind);
  }

  // Another try, at once on another instance or region; after a short pause
  // when it can only go back to an instance already tried; to a region whose
  // path was dead, once the view moved it (a relay) or the path answers again.
  private retry(previous: AttemptHandler): void {
    const now = performance.now();
    if (this.pick.endpoint !== null && this.pick.endpoint === previous.endpoint) {
      setTimeout(onRetryBackoff, 10 * this.retries, this);
      return;
    }
    if (previous.pathDead && this.pick.target === previous.target && previous.target.ingress === previous.dispatcher) {
      this.deadPathTry = previous;
      setTimeout(onPathWait, PATH_WAIT_POLL_MS, this);
      return;
    }
    this.dispatch(now);
  }

  // Waiting to retry a region whose path was dead (the request timeout
  // bounds the wait): the view moved the region (relay, other address) or
  // dropped it: choose again; the path answers again: go.
  pollPath(): void {
    const previous = this.deadPathTry;
    if (this.done || previous === null) return;
    const target = previous.target;
    const pool = previous.dispatcher!;
    if (target.ingress !== pool || !(this.plan ?? this.backend!.plan).includes(target)) {
      this.deadPathTry = null;
      const now = performance.now();
      if (this.choose(now)) this.dispatch(now);
      else this.upstreamFailed('timeout');
      return;
    }
    if (!this.pathChecking) {
      this.pathChecking = true;
      void pool.pathAlive!(pool.generation ?? 0, target.cost).then((alive) => {
        this.pathChecking = false;
        if (!alive || this.done || this.deadPathTry !== previous) return;
        this.deadPathTry = null;
        this.dispatch(performance.now());
      });
    }
    setTimeout(onPathWait, PATH_WAIT_POLL_MS, this);
  }

  // May the failed try be tried again? On success this.pick holds where.
  private planRetry(kind: FailureKind, now: number, again: RegionTarget | null = null): boolean {
    const backend = this.backend!;
    const policy = backend.policy;
    if (this.done || this.res.headersSent) return false;
    if (this.retries >= policy.attempts) return false;
    // A streamed body can go again only if nothing of it was read.
    if (!this.replayable && !(kind === 'connect-failure' && this.bodyUnread())) return false;
    if (!isRetryable(kind, policy.retryOn, this.idempotent)) return false;
    // A connect failure sent nothing: its retry adds no load anywhere, so the
    // budget (which bounds the load retries add) neither stops nor counts it.
    const budgeted = kind !== 'connect-failure';
    if (budgeted && !backend.budget.canRetry(now)) return false;
    if (!this.choose(now, again)) return false;
    if (budgeted) backend.budget.takeRetry(now);
    this.retries++;
    backend.metrics.retries.inc();
    return true;
  }

  private bodyUnread(): boolean {
    const body = this.body;
    return body !== null && !Buffer.isBuffer(body) && !body.readableDidRead && !body.destroyed;
  }

  private succeeded(attempt: AttemptHandler, now: number): void {
    if (attempt.endpoint !== null) this.backend!.balancer.onSuccess(attempt.endpoint, now - attempt.startedAt, now);
    attempt.target.breaker.onSuccess();
  }

  private failed(attempt: AttemptHandler, kind: FailureKind, detail: string, now: number): void {
    const backend = this.backend!;
    this.lastFailure = kind;
    this.lastDetail = detail;
    backend.metrics.upstreamError(attempt.target.name, kind);
    if (attempt.endpoint !== null) {
      const ejectedFor = backend.balancer.onFailure(attempt.endpoint, now);
      if (ejectedFor > 0) {
        backend.metrics.ejections.inc();
        this.proxy.logger.warn(
          { service: backend.name, instance: attempt.endpoint.id, address: attempt.endpoint.key, ejectedForMs: ejectedFor, kind },
          'instance ejected',
        );
      }
    }
    // A dead path is not the region's failure: the zone's probes route
    // around it (a relay), and every request caught on it would otherwise
    // count towards opening the region's circuit.
    if (!attempt.pathDead && attempt.target.breaker.onFailure(now)) {
      this.proxy.logger.warn({ service: backend.name, region: attempt.target.name, kind }, 'circuit opened');
    }
  }

  private upstreamFailed(kind: FailureKind): void {
    const service = this.backend!.name;
    const where = this.lastTarget === null ? '' : this.lastTarget.local ? '' : ` via region '${this.lastTarget.name}'`;
    const tries = this.tries === 1 ? '1 try' : `${this.tries} tries`;
    if (kind === 'timeout') {
      return this.reply(504, `upstream of service '${service}'${where} did not answer in time: ${this.lastDetail} (${tries})`);
    }
    this.reply(502, `upstream ${kind} for service '${service}'${where}: ${this.lastDetail} (${tries})`);
  }

  private noTarget(now: number): void {
    const b = this.backend!;
    if (b.plan.length > 0 && b.plan.every((t) => t.breaker.isOpen(now) || t.inFlight >= t.breaker.config.maxRequests)) {
      const names = b.plan.map((t) => t.name).join(', ');
      return this.reply(503, `circuit open for service '${b.name}' in every region that has it (${names})`, {
        retryAfterSeconds: Math.max(1, Math.ceil(b.policy.breaker.openForMs / 1000)),
      });
    }
    this.reply(503, noInstanceMessage(b.name), { retryAfterSeconds: 1 });
  }

  timeout(): void {
    if (this.done) return;
    this.timer = null;
    const controller = this.attempt?.controller;
    if (!this.res.headersSent) {
      this.lastFailure = 'timeout';
      this.backend?.metrics.upstreamError(this.lastTarget?.name ?? 'none', 'timeout');
      this.reply(504, `upstream timed out after ${this.timeoutMs} ms`);
    } else {
      abortResponse(this.res);
      this.finish();
    }
    controller?.abort(new Error('request timed out'));
  }

  clientGone(): void {
    if (this.done) return;
    if (this.status === 0 || !this.res.writableEnded) this.status = CLIENT_CLOSED;
    const controller = this.attempt?.controller;
    this.finish();
    controller?.abort(new Error('client closed the connection'));
    if (this.body !== null && !Buffer.isBuffer(this.body)) this.body.destroy();
  }

  private reply(status: number, message: string, options?: LocalReplyOptions): void {
    if (this.done) return;
    if (this.res.headersSent) {
      abortResponse(this.res);
    } else {
      this.status = status;
      sendLocalReply(this.res, status, message, this.proxy.name, options);
    }
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
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
      // A request answered before it was forwarded has the client's id, if any.
      requestId: this.requestId || (this.head.requestId ?? ''),
      remote: this.req.socket?.remoteAddress,
      client: this.head.clientAddress,
      protocol: `HTTP/${this.req.httpVersion}`,
      lastFailure: this.lastFailure,
      lastDetail: this.lastDetail,
      trace: this,
    });
    this.proxy.exchangeDone(this.req);
  }

  logInstanceCall(attempt: AttemptHandler, err: Error | null): void {
    const endpoint = attempt.endpoint!;
    this.proxy.accessLog.writeSpan({
      trace_id: this.traceId,
      span_id: attempt.spanId,
      parent_span_id: this.spanId,
      span_name: INSTANCE_CALL_SPAN,
      service: this.backend!.name,
      instance: endpoint.id,
      address: endpoint.key,
      status: attempt.status,
      ms: Math.round((performance.now() - attempt.startedAt) * 1000) / 1000,
      ...(err !== null ? { error: describeUpstreamError(err) } : {}),
    });
  }
}

export function noInstanceMessage(service: string): string {
  return `no healthy instance of service '${service}' in any region`;
}
