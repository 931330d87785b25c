// A request's try through an upstream pool (an instance's, or a remote
// region's ingress pool): undici's dispatch handler, one small object per
// try, its events handed to the request (exchange.ts) as method calls.
// A try to a remote ingress that may be retried also has the path to the
// ingress checked while it waits for headers (REMOTE_PATH_CHECK_MS).
import type { IncomingHttpHeaders } from 'node:http';
import { errors, type Dispatcher } from 'undici';
import type { Endpoint } from '../balancer/endpoint';
import type { RegionTarget } from '../region-picker/region-target';
import { PathDeadError } from '../upstream/ingress-path-check';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { Attempt } from './attempt';

export type Controller = Dispatcher.DispatchController;

// An idempotent try to a remote region with no response headers after this
// long has the path to the ingress checked (upstream/ingress-path-check.ts),
// and again every as long while it waits: a dead path fails the try, which
// is retried; a live one lets a slow service take its time. Independent of
// the policy's perTryTimeout, which ends a try whatever the path.
export const REMOTE_PATH_CHECK_MS = 500;

// The request a try belongs to, as the try sees it.
export interface DispatchAttemptOwner {
  readonly attempt: Attempt | null;
  readonly done: boolean;
  readonly sampled: boolean;
  onAttemptHeaders(attempt: DispatchAttempt, controller: Controller, status: number, headers: IncomingHttpHeaders): void;
  onAttemptData(attempt: DispatchAttempt, controller: Controller, chunk: Buffer): void;
  onAttemptEnd(attempt: DispatchAttempt, trailers: IncomingHttpHeaders): void;
  onAttemptError(attempt: DispatchAttempt, err: Error): void;
  logInstanceCall(attempt: DispatchAttempt, err: Error | null): void;
}

function onPathCheckDue(attempt: DispatchAttempt): void {
  attempt.pathCheckDue();
}

export class DispatchAttempt extends Attempt implements Dispatcher.DispatchHandler {
  controller: Controller | null = null;
  // A 502/503 answer being read to its end before the retry goes out.
  retryAfterDrain = false;
  // The ingress it went to, and whether through a relay.
  address = '';
  relayed = false;
  private pathTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly owner: DispatchAttemptOwner,
    target: RegionTarget,
    endpoint: Endpoint | null,
    startedAt: number,
    // The span of a call to an instance; '' for a try sent to an ingress.
    readonly spanId: string,
  ) {
    super(target, endpoint, startedAt);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    // Superseded while it waited in the pool's queue (timeout, client gone).
    if (this.owner.attempt !== this || this.owner.done || this.pathDead) controller.abort(new Error('request no longer wanted'));
    else if (this.headersLate) controller.abort(new errors.HeadersTimeoutError());
  }

  protected abortLate(): void {
    this.controller?.abort(new errors.HeadersTimeoutError());
  }

  // Checks the path to the ingress while the try waits (dispatcher has pathAlive).
  watchPath(dispatcher: UpstreamDispatcher, address: string): void {
    this.dispatcher = dispatcher;
    this.generation = dispatcher.generation ?? 0;
    this.address = address;
    this.relayed = this.target.relayVia !== undefined;
    this.armPathCheck();
  }

  private armPathCheck(): void {
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
    if (this.controller === null) this.owner.onAttemptError(this, err);
    else this.controller.abort(err);
  }

  onResponseStart(controller: Controller, status: number, headers: IncomingHttpHeaders): void {
    // undici hands an informational answer (103 Early Hints) over as if it
    // were the response; the final one follows.
    if (status < 200) return;
    this.headersCame(status);
    this.owner.onAttemptHeaders(this, controller, status, headers);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.retryAfterDrain) this.owner.onAttemptData(this, controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    // undici 7's HTTP/2 client hands its trailers over as an object, which
    // its handler adapter parses as a list into {}: take them raw.
    const raw = controller.rawTrailers;
    this.owner.onAttemptEnd(this, raw != null && !Array.isArray(raw) ? (raw as IncomingHttpHeaders) : trailers);
  }

  onResponseError(_controller: Controller, err: Error): void {
    if (this.pathDead && this.released) return;
    this.owner.onAttemptError(this, err);
  }

  // Exactly once per try: the counts go back down, and a sampled call to an
  // instance leaves its span.
  finish(err: Error | null): void {
    if (!this.release()) return;
    if (this.pathTimer !== null) {
      clearTimeout(this.pathTimer);
      this.pathTimer = null;
    }
    if (this.endpoint !== null && this.owner.sampled) this.owner.logInstanceCall(this, err);
  }
}
