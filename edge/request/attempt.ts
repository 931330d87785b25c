// One try of a request or an upgrade: where it went (a region, and for the
// local region the instance), the load it adds there until it ends, and its
// own deadline for the answer's headers. What it is sent through is the
// subclass's: dispatch-attempt.ts (an upstream pool, undici's handler API)
// or connect-attempt.ts (a new connection and an HTTP/1.1 handshake, for a
// protocol upgrade). The attempt loop (attempt-loop.ts) judges its outcome.
import type { Endpoint } from '../balancer/endpoint';
import type { RegionTarget } from '../region-picker/region-target';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';

function onHeadersLate(attempt: Attempt): void {
  attempt.headersDue();
}

export abstract class Attempt {
  // The answer's status, 0 until its headers came.
  status = 0;
  protected released = false;
  // The per-try deadline for the answer's headers. Our own timer: undici's
  // headersTimeout runs on its coarse timers (about a second of slack), too
  // coarse for per-try timeouts of a few hundred milliseconds.
  private headersTimer: NodeJS.Timeout | null = null;
  protected headersLate = false;
  // A try to a remote ingress whose path is checked (dispatch-attempt.ts):
  // the pool and its generation the try went to.
  dispatcher: UpstreamDispatcher | null = null;
  generation = 0;
  // The path was found dead: the try failed, whatever the pool says later.
  pathDead = false;

  constructor(
    readonly target: RegionTarget,
    readonly endpoint: Endpoint | null,
    readonly startedAt: number,
  ) {
    target.inFlight++;
    if (endpoint !== null) endpoint.outstanding++;
  }

  armHeadersTimer(ms: number): void {
    if (ms > 0) this.headersTimer = setTimeout(onHeadersLate, ms, this);
  }

  headersDue(): void {
    this.headersTimer = null;
    if (this.status !== 0 || this.released) return;
    this.headersLate = true;
    this.abortLate();
  }

  // The answer's headers came: their deadline is over.
  protected headersCame(status: number): void {
    this.status = status;
    if (this.headersTimer !== null) {
      clearTimeout(this.headersTimer);
      this.headersTimer = null;
    }
  }

  // Ends the try that missed its deadline for headers.
  protected abstract abortLate(): void;

  // Exactly once per try: the in-flight counts it raised go back down and
  // its timers stop. False when it was released already.
  release(): boolean {
    if (this.released) return false;
    this.released = true;
    if (this.headersTimer !== null) {
      clearTimeout(this.headersTimer);
      this.headersTimer = null;
    }
    this.target.inFlight--;
    if (this.endpoint !== null) this.endpoint.outstanding--;
    return true;
  }
}
