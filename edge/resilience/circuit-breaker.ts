// A circuit per service and region. It refuses new requests while the
// region has maxRequests in flight from this edge, and for openFor after
// consecutiveFailures failures in a row; then it lets one probe through
// (half-open): a success closes it, a failure opens it again.
export interface BreakerConfig {
  maxRequests: number;
  consecutiveFailures: number;
  openForMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = { maxRequests: 1024, consecutiveFailures: 20, openForMs: 10_000 };

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;

export class CircuitBreaker {
  private state = CLOSED;
  private failures = 0;
  private openUntil = 0;
  private probing = false;
  private probeStartedAt = 0;

  constructor(public config: BreakerConfig = DEFAULT_BREAKER_CONFIG) {}

  // May a new request go to this region now? inFlight: this edge's requests
  // to the region in progress.
  canPass(now: number, inFlight: number): boolean {
    if (inFlight >= this.config.maxRequests) return false;
    if (this.state === CLOSED) return true;
    if (this.state === OPEN) {
      if (now < this.openUntil) return false;
      this.state = HALF_OPEN;
      this.probing = false;
    }
    // A probe that never reported back (its client left) does not hold the
    // circuit half-open for ever.
    return !this.probing || now - this.probeStartedAt > this.config.openForMs;
  }

  // The request allowed by canPass is on its way.
  onPass(now: number): void {
    if (this.state === HALF_OPEN) {
      this.probing = true;
      this.probeStartedAt = now;
    }
  }

  onSuccess(): void {
    this.failures = 0;
    this.state = CLOSED;
    this.probing = false;
  }

  // Returns true when this failure opened the circuit.
  onFailure(now: number): boolean {
    this.failures++;
    if (this.state === HALF_OPEN || (this.state === CLOSED && this.failures >= this.config.consecutiveFailures)) {
      this.state = OPEN;
      this.openUntil = now + this.config.openForMs;
      this.probing = false;
      return true;
    }
    return false;
  }

  isOpen(now: number): boolean {
    return this.state === OPEN && now < this.openUntil;
  }

  describe(now: number): 'closed' | 'open' | 'half-open' {
    if (this.state === CLOSED) return 'closed';
    if (this.state === OPEN && now < this.openUntil) return 'open';
    return 'half-open';
  }
}
