// One request's way through the gateway, from the listener's callback to the
// last byte of the response: the layers of edge/README.md, run in order.
//
//   admission.ts       loop and framing refusals; caller authentication
//   route-request.ts   target -> service, permit, backend, plan (RoutedRequest)
//   request-body.ts    none | buffered (replayable) | streamed; limits
//   attempt-loop.ts    choose region + instance, try, judge, retry
//     dispatch-attempt.ts  one try through an upstream pool (undici handler)
//   this file          the response: headers, data with backpressure,
//                      trailers; replies of its own (local-reply.ts)
//   record-exchange.ts metrics, access log, span
//
// One Exchange object per request (what each layer decided, and the loop's
// state, are its fields) and one DispatchAttempt per try; no closures on the
// way of a plain GET.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Endpoint } from '../balancer/endpoint';
import type { VerifiedCaller } from '../identity/ingress-authorizer';
import type { MeshCaller } from '../identity/mesh-authorizer';
import { beginHopTrace, INSTANCE_CALL_SPAN } from '../observability/hop-trace';
import type { RegionTarget } from '../region-picker/region-target';
import { failureOfStatus, isIdempotent, type FailureKind } from '../resilience/retry-policy';
import { addForwardedHeaders } from '../router/forwarded-headers';
import { describeUpstreamError } from '../upstream/upstream-error';
import { newSpanId } from '../../lib/tracing/trace-ids';
import { formatTraceparent, TRACEPARENT_HEADER } from '../../lib/tracing/traceparent';
import { authenticateCaller, checkHead, type AdmittedCaller } from './admission';
import { AttemptLoop } from './attempt-loop';
import { abortResponse, isHttp2, writer, type ClientRequest, type ClientResponse } from './client-types';
import { DispatchAttempt, type Controller, type DispatchAttemptOwner } from './dispatch-attempt';
import type { ExchangeContext, RequestEntry } from './exchange-context';
import { sendLocalReply, type LocalReplyOptions, type Refusal } from './local-reply';
import { CLIENT_CLOSED, recordExchange } from './record-exchange';
import { BodyTooLargeError, bodyLimit, bodyPlan, hasBody, readBody, StreamedBody, type BodyRead } from './request-body';
import { RequestHead } from './request-head';
import { prepareResponseHeaders } from './response-headers';
import { routeRequest } from './route-request';

const kExchange = Symbol('meridian.exchange');

function onResponseClose(this: ClientResponse): void {
  const exchange = (this as unknown as { [kExchange]?: Exchange })[kExchange];
  if (exchange !== undefined && !exchange.done) exchange.clientGone();
}

export class Exchange extends AttemptLoop implements AdmittedCaller, DispatchAttemptOwner {
  status = 0;
  requestId = '';
  declare attempt: DispatchAttempt | null;
  ingressCaller: VerifiedCaller | undefined = undefined;
  meshCaller: MeshCaller | undefined = undefined;
  private readonly method: string;
  private body: Buffer | Readable | null = null;
  private replayable = true;
  private streamed: StreamedBody | null = null;
  private maxBody = 0;
  private paused: Controller | null = null;
  // Content-Length of the answer while its first chunk is awaited, else -1.
  private wholeBody = -1;
  private bodyEnded = false;
  private onDrain: (() => void) | null = null;

  constructor(
    proxy: ExchangeContext,
    private readonly req: ClientRequest,
    private readonly res: ClientResponse,
    private readonly scheme: 'http' | 'https',
    // The public listeners, or the mesh listener of the region's workloads.
    private readonly entry: RequestEntry = 'public',
  ) {
    super(proxy, new RequestHead(req.rawHeaders), 'answer');
    this.method = req.method ?? 'GET';
  }

  // Admission, routing and the body, then the first try.
  start(): void {
    const proxy = this.proxy;
    const head = this.head;
    (this.res as unknown as { [kExchange]: Exchange })[kExchange] = this;
    this.res.on('close', onResponseClose);
    beginHopTrace(this, head.traceparent, proxy.mode === 'ingress' && head.hops > 0, proxy.accessLog);

    // Arrival time stands for now: admission and routing take microseconds.
    const now = this.startedAt;
    const refused =
      checkHead(proxy, head) ??
      authenticateCaller(proxy, this.req, this.scheme, this.entry, this) ??
      routeRequest(proxy, head, this.req.url ?? '/', this.method, this.req, this.entry, this.ingressCaller, this.meshCaller, this, now);
    if (refused !== null) return this.refuse(refused);
    const route = this.route!;
    const backend = this.backend!;
    const policy = backend.policy;

    this.idempotent = isIdempotent(this.method, head.idempotencyKey);
    this.requestId = addForwardedHeaders(head, this.req.socket?.remoteAddress, this.scheme, proxy.forwarding);
    // gRPC servers may check it; it means something only on HTTP/2.
    if (head.teTrailers && policy.http2) head.headers.push('te', 'trailers');
    this.baseHeaders = head.headers.length;
    this.armTimeout(policy.requestTimeoutMs);

    if (!hasBody(this.req, head)) return this.first(now);
    const maxBody = bodyLimit(proxy.backends, route, backend);
    this.maxBody = maxBody;
    switch (bodyPlan(head, maxBody, policy.http2)) {
      case 'too-large':
        return this.reply(413, `request body of ${head.contentLength} bytes exceeds the limit of ${maxBody} bytes for service '${route.service}'`, { close: true });
      case 'stream':
        this.replayable = false;
        this.streamed = new StreamedBody(this.req, [], 0, maxBody);
        this.body = this.streamed.stream;
        return this.first(now);
      case 'stream-with-length':
        // Content-Length kept.
        this.replayable = false;
        head.headers.push('content-length', head.contentLengthRaw!);
        this.baseHeaders = head.headers.length;
        this.body = this.req;
        return this.first(now);
      case 'buffer':
        readBody(this.req, head.contentLength, maxBody).then(
          (read) => this.bodyRead(read),
          (err: Error) => this.bodyFailed(err),
        );
    }
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

  // A try through the instance's pool, or the remote region's ingress pool.
  protected send(target: RegionTarget, endpoint: Endpoint | null, headers: string[], headersTimeout: number, now: number): void {
    // To an instance, a sampled call is a span of its own (an unsampled one is
    // logged nowhere: its id would be one more string for nothing); an
    // ingress opens its own span.
    const spanId = endpoint !== null && this.sampled ? newSpanId() : '';
    headers.push(TRACEPARENT_HEADER, formatTraceparent(this.traceId, spanId === '' ? this.spanId : spanId, this.sampled));

    const attempt = new DispatchAttempt(this, target, endpoint, now, spanId);
    this.attempt = attempt;
    const dispatcher = endpoint !== null ? endpoint.dispatcher : target.ingress!;
    attempt.armHeadersTimer(headersTimeout);
    if (endpoint === null && this.idempotent && dispatcher.pathAlive !== undefined) attempt.watchPath(dispatcher, target.ingressAddress);
    try {
      dispatcher.dispatch(
        {
          path: this.route!.url,
          method: this.method,
          headers,
          body: this.body,
          // undici's own, coarse: a backstop behind the attempt's timer.
          headersTimeout,
          bodyTimeout: this.backend!.policy.idleTimeoutMs,
        },
        attempt,
      );
    } catch (err) {
      attempt.onResponseError(null as unknown as Controller, err as Error);
    }
  }

  protected mayRetry(kind: FailureKind): boolean {
    if (this.res.headersSent) return false;
    // A streamed body can go again only if nothing of it was read.
    return this.replayable || (kind === 'connect-failure' && this.bodyUnread());
  }

  private bodyUnread(): boolean {
    const body = this.body;
    return body !== null && !Buffer.isBuffer(body) && !body.readableDidRead && !body.destroyed;
  }

  // The response, as the try in force receives it.
  onAttemptHeaders(attempt: DispatchAttempt, controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (attempt !== this.attempt || this.done) {
      controller.abort(new Error('request no longer wanted'));
      return;
    }
    if (this.judgeAnswer(attempt, status, failureOfStatus(status), performance.now())) {
      attempt.retryAfterDrain = true;
      return;
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

  onAttemptData(attempt: DispatchAttempt, controller: Controller, chunk: Buffer): void {
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

  onAttemptEnd(attempt: DispatchAttempt, trailers: IncomingHttpHeaders): void {
    attempt.finish(null);
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

  onAttemptError(attempt: DispatchAttempt, err: Error): void {
    attempt.finish(err);
    if (attempt !== this.attempt || this.done) return;
    if (attempt.retryAfterDrain) {
      // The 502/503 being discarded broke off: the retry goes out anyway.
      this.retry(attempt);
      return;
    }
    const now = performance.now();
    if (this.res.headersSent) {
      // Response bytes went out: no retry, the client sees a broken response.
      this.failedAfterResponse(attempt, err, now);
      abortResponse(this.res);
      this.finish();
      return;
    }
    if (this.streamed?.exceeded) {
      return this.reply(413, `request body exceeds the limit of ${this.maxBody} bytes for service '${this.route!.service}'`, { close: true });
    }
    this.judgeError(attempt, err, now);
  }

  protected timedOut(): void {
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

  private refuse(r: Refusal): void {
    this.reply(r.status, r.message, r);
  }

  protected reply(status: number, message: string, options?: LocalReplyOptions): void {
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

  logInstanceCall(attempt: DispatchAttempt, err: Error | null): void {
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
