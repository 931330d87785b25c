// The attempt loop, one for every protocol: for a routed request, choose a
// region and an instance, send a try there, judge its outcome, and try again
// while the retry policy, the retry budget and the choices left allow it.
//
//   first: choose (region picker + balancer) | 503 no instance / circuit open
//   dispatch: forwarding headers for the target, per-try deadline, send()
//   outcome: succeeded (latency to the balancer, breaker closes)
//          | failed (outlier ejection, breaker, metrics) -> planRetry?
//   retry: at once elsewhere; after a short pause to an instance already
//          tried; to a region whose path was dead once its path changed
//   none left: 502 / 504 with the last failure and the number of tries
//
// What a try is sent through is the subclass's send(): a request dispatches
// to an upstream pool (exchange.ts, dispatch-attempt.ts), an upgrade opens a
// connection for its handshake (upgrade-exchange.ts, connect-attempt.ts).
// The loop's state lives on the request's own object: no object per request
// beyond it, timers are module-level functions.
import type { Backend } from '../backend/backend';
import type { Endpoint } from '../balancer/endpoint';
import type { HopTrace } from '../observability/hop-trace';
import { Pick, pickRegion } from '../region-picker/region-picker';
import type { RegionTarget } from '../region-picker/region-target';
import { isRetryable, type FailureKind } from '../resilience/retry-policy';
import { tryHeadersTimeoutMs } from '../resilience/timeouts';
import type { RouteResult } from '../router/router';
import { classifyUpstreamError, describeUpstreamError } from '../upstream/upstream-error';
import type { Attempt } from './attempt';
import type { ExchangeContext } from './exchange-context';
import { noInstanceMessage, type LocalReplyOptions } from './local-reply';
import { HOP_HEADER, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER, TARGET_REGION_HEADER, type RequestHead } from './request-head';
import type { RoutedRequest } from './routed-request';

// While a request waits for the view to move its region off a dead path,
// how often it looks.
const PATH_WAIT_POLL_MS = 25;

function onRequestTimeout(loop: AttemptLoop): void {
  loop.timeUp();
}

function onRetryBackoff(loop: AttemptLoop): void {
  if (!loop.done) loop.dispatch(performance.now());
}

function onPathWait(loop: AttemptLoop): void {
  loop.pollPath();
}

export abstract class AttemptLoop implements RoutedRequest, HopTrace {
  // Finished: the client has its answer (or is gone); nothing more is sent.
  done = false;
  traceId = '';
  spanId = '';
  parentSpanId = '';
  sampled = false;
  hostKey = '';
  route: RouteResult | undefined = undefined;
  backend: Backend | undefined = undefined;
  plan: readonly RegionTarget[] | null = null;
  sourceIdentity: string | undefined = undefined;
  // The try in progress (the last one sent).
  attempt: Attempt | null = null;
  tries = 0;
  servedRegion = 'none';
  protected readonly startedAt = performance.now();
  // From arrival: the whole request (or an upgrade's handshake).
  protected timeoutMs = 0;
  protected idempotent = false;
  // The forwarded headers common to every try (head.headers up to here).
  protected baseHeaders = 0;
  protected lastFailure: FailureKind | null = null;
  protected lastDetail = '';
  protected lastTarget: RegionTarget | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retries = 0;
  private readonly pick = new Pick();
  private triedEndpoints: Endpoint[] | null = null;
  private triedRegions: RegionTarget[] | null = null;
  // The try whose path was dead, while the retry waits for its region's
  // path to change (pollPath).
  private deadPathTry: Attempt | null = null;
  private pathChecking = false;

  constructor(
    protected readonly proxy: ExchangeContext,
    protected readonly head: RequestHead,
    // What the upstream failed to do in time, for the 504's message.
    private readonly awaited: string,
  ) {}

  // Sends a try to this.pick's choice (target, and endpoint for the local
  // region) with the headers for it; sets this.attempt before it can answer.
  protected abstract send(target: RegionTarget, endpoint: Endpoint | null, headers: string[], headersTimeoutMs: number, now: number): void;
  // May a failed try of this kind be sent again, as far as what the client
  // sent and got is concerned (body replayable, no response started)?
  protected abstract mayRetry(kind: FailureKind): boolean;
  // Answers the client with a response the gateway makes.
  protected abstract reply(status: number, message: string, options?: LocalReplyOptions): void;
  // The request's (or handshake's) time is up.
  protected abstract timedOut(): void;

  protected armTimeout(ms: number): void {
    this.timeoutMs = ms;
    this.timer = setTimeout(onRequestTimeout, ms, this);
  }

  timeUp(): void {
    this.timer = null;
    if (!this.done) this.timedOut();
  }

  protected stopTimeout(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // The first try, or the answer that there is nowhere to send it.
  protected first(now: number): void {
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
    if (endpoint !== null) (this.triedEndpoints ??= []).push(endpoint);
    else (this.triedRegions ??= []).push(target);

    const headers = this.head.headers;
    headers.length = this.baseHeaders;
    if (!target.local) {
      headers.push(SERVICE_HEADER, backend.name, HOP_HEADER, String(this.head.hops + 1));
      if (backend.port !== undefined) headers.push(PORT_HEADER, backend.port);
      // An ingress relaying a workload's request passes its identity on.
      if (this.sourceIdentity !== undefined) headers.push(SOURCE_IDENTITY_HEADER, this.sourceIdentity);
    }
    if (target.relayVia !== undefined) headers.push(TARGET_REGION_HEADER, target.name);
    this.tries++;
    this.lastTarget = target;
    this.send(target, endpoint, headers, tryHeadersTimeoutMs(backend.policy.perTryTimeoutMs, this.timeoutMs - (now - this.startedAt)), now);
  }

  // The try answered with `status`: judged. True when the answer is a
  // failure to be discarded because another try goes out (this.retry).
  protected judgeAnswer(attempt: Attempt, status: number, kind: FailureKind | undefined, now: number): boolean {
    if (kind === undefined) {
      this.succeeded(attempt, now);
      return false;
    }
    this.failed(attempt, kind, `answered ${status}`, now);
    return kind !== '504' && this.planRetry(kind, now);
  }

  // The try failed before an answer: another one, or the client is told.
  protected judgeError(attempt: Attempt, err: Error, now: number): void {
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
  protected retry(previous: Attempt): void {
    if (this.pick.endpoint !== null && this.pick.endpoint === previous.endpoint) {
      setTimeout(onRetryBackoff, 10 * this.retries, this);
      return;
    }
    if (previous.pathDead && this.pick.target === previous.target && previous.target.ingress === previous.dispatcher) {
      this.deadPathTry = previous;
      setTimeout(onPathWait, PATH_WAIT_POLL_MS, this);
      return;
    }
    this.dispatch(performance.now());
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
    if (this.done || !this.mayRetry(kind)) return false;
    if (this.retries >= policy.attempts) return false;
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

  private succeeded(attempt: Attempt, now: number): void {
    if (attempt.endpoint !== null) this.backend!.balancer.onSuccess(attempt.endpoint, now - attempt.startedAt, now);
    attempt.target.breaker.onSuccess();
  }

  private failed(attempt: Attempt, kind: FailureKind, detail: string, now: number): void {
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

  // Failed for good after a try: counted as a reset once response bytes went out.
  protected failedAfterResponse(attempt: Attempt, err: Error, now: number): void {
    this.failed(attempt, 'reset', describeUpstreamError(err), now);
  }

  private upstreamFailed(kind: FailureKind): void {
    const service = this.backend!.name;
    const where = this.lastTarget === null || this.lastTarget.local ? '' : ` via region '${this.lastTarget.name}'`;
    const tries = this.tries === 1 ? '1 try' : `${this.tries} tries`;
    if (kind === 'timeout') {
      return this.reply(504, `upstream of service '${service}'${where} did not ${this.awaited} in time: ${this.lastDetail} (${tries})`);
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
}
