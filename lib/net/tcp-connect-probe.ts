// Does a TCP handshake to host:port complete within a timeout, and how long
// did it take? The zone controller's tunnel prober and the edge's check of a
// remote path both ask it.
//
// The timeout tolerates a stalled event loop (../util/stall-tolerant-deadline.ts):
// a handshake that completed while the loop was blocked counts as completed,
// not as a miss. A loaded 2-core host blocks a loop for 100s of ms; without
// this every such stall longer than the timeout would be a lost probe.
import * as net from 'node:net';
import { stallTolerantDeadline } from '../util/stall-tolerant-deadline';

export interface TcpProbeResult {
  up: boolean;
  // Time to the handshake (0 when not up); a stall of the loop is in it.
  rttMs: number;
}

// A handshake may take this many round trips (it is one, plus the queues of
// a busy host) within these bounds: long enough for an intercontinental
// path, short enough to tell a dead one within a second.
const TIMEOUT_RTTS = 4;
export const MIN_PROBE_TIMEOUT_MS = 300;
export const MAX_PROBE_TIMEOUT_MS = 1000;

// The probe timeout for a path of that round trip (0 or unknown: the minimum;
// Infinity: the maximum).
export function probeTimeoutMs(rttMs: number): number {
  if (!(rttMs > 0)) return MIN_PROBE_TIMEOUT_MS;
  return Math.min(MAX_PROBE_TIMEOUT_MS, Math.max(MIN_PROBE_TIMEOUT_MS, rttMs * TIMEOUT_RTTS));
}

const ADDRESS = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/;

export function probeTcpConnect(address: string, timeoutMs: number): Promise<TcpProbeResult> {
  const m = ADDRESS.exec(address);
  if (!m) return Promise.resolve({ up: false, rttMs: 0 });
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host: m[1] ?? m[2], port: Number(m[3]) });
    const done = (up: boolean) => {
      if (settled) return;
      settled = true;
      deadline.clear();
      socket.destroy();
      resolve({ up, rttMs: up ? performance.now() - started : 0 });
    };
    const deadline = stallTolerantDeadline(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
