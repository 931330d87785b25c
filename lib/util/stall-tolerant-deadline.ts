// A deadline for probes that a stalled event loop does not trip: a process
// on a loaded host is blocked or descheduled for hundreds of milliseconds,
// and a plain timer then fires before the sockets that completed meanwhile
// are read, failing a probe whose peer answered in time. Used by the zone's
// health checks and by the TCP probes of remote ingresses.
//
// A timer that fired late is set again for as long as it was late (the
// stall, as far as a late timer shows it), up to MAX_TIMEOUTS x timeoutMs in
// all; then the verdict waits for the loop's next poll (setImmediate), so
// sockets that completed during the stall are seen first.

// A stall is a timer firing this much later than asked.
const STALL_MS = 20;
// However the loop stalls, a deadline expires within this many timeouts.
export const MAX_TIMEOUTS = 3;

// now: a monotonic clock in ms (a test's controlled one).
export function stallTolerantDeadline(timeoutMs: number, expire: () => void, now: () => number = () => performance.now()): { clear(): void } {
  const started = now();
  const limit = started + MAX_TIMEOUTS * timeoutMs;
  let due = started + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const arm = (ms: number): void => {
    timer = setTimeout(fire, ms);
    timer.unref();
  };
  const fire = (): void => {
    const at = now();
    const late = at - due;
    if (late > STALL_MS && at < limit) {
      due = Math.min(at + late, limit);
      return arm(due - at);
    }
    immediate = setImmediate(expire);
  };
  arm(timeoutMs);
  return {
    clear: () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
