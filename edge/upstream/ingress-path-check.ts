// Is the path to a remote region's ingress alive? Asked when a try to that
// region has had no answer for a while (request/dispatch-attempt.ts): a TCP handshake
// to the ingress's address tells a dead path (a tunnel that drops packets
// silently: the try would hang until the client gives up) from a slow
// service (the try should go on waiting). Tries waiting on the same address
// share one check, and a handshake that completed stands for a moment
// (ALIVE_FOR_MS), so many slow requests cost a few checks a second at most.
import { probeTcpConnect, probeTimeoutMs } from '../../lib/net/tcp-connect-probe';

const ALIVE_FOR_MS = 250;

export class IngressPathCheck {
  private readonly checking = new Map<string, Promise<boolean>>();
  // Address -> when a handshake with it last completed (performance.now()).
  private readonly aliveAt = new Map<string, number>();

  // rttMs: the path's round trip as far as known (the handshake may take 4,
  // 300 ms to 1 s; a stalled event loop does not count against it).
  alive(address: string, rttMs: number): Promise<boolean> {
    const at = this.aliveAt.get(address);
    if (at !== undefined && performance.now() - at < ALIVE_FOR_MS) return Promise.resolve(true);
    let check = this.checking.get(address);
    if (check === undefined) {
      check = probeTcpConnect(address, probeTimeoutMs(rttMs)).then((r) => {
        this.checking.delete(address);
        if (r.up) this.aliveAt.set(address, performance.now());
        else this.aliveAt.delete(address);
        return r.up;
      });
      this.checking.set(address, check);
    }
    return check;
  }
}

// A try failed because its path is dead; classified as a timeout
// (upstream-error.ts): retried for idempotent requests.
export class PathDeadError extends Error {
  readonly code = 'MERIDIAN_PATH_DEAD';
  constructor(address: string, waitedMs: number) {
    super(`no answer in ${Math.round(waitedMs)} ms and no TCP handshake with the ingress at ${address}: the path is down`);
  }
}
