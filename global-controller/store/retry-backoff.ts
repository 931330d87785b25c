// Delays between attempts while etcd is away: short at first, capped low so
// the store notices quickly that etcd is back.
export const RETRY_BASE_MS = 100;
export const RETRY_MAX_MS = 2000;

// failures >= 1; full jitter on the upper half so replicas do not retry in step.
export function retryDelayMs(failures: number): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 16));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
