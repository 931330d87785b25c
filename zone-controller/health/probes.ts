// One health probe of one instance: an HTTP GET or a TCP connect, bounded by
// a deadline that covers connecting, sending and the response headers.
//
// The deadline is stall-tolerant (lib/util/stall-tolerant-deadline.ts): a
// zone checking thousands of instances on a loaded host stalls, and with a
// plain timer a stall longer than the timeout marked a healthy instance
// unhealthy, a flap sent to every proxy in the mesh (./probes.test.ts).
import { request } from 'node:http';
import { connect } from 'node:net';
import { stallTolerantDeadline } from '../../lib/util/stall-tolerant-deadline';

export interface ProbeResult {
  ok: boolean;
  // Why it failed (for logs); absent when it passed.
  reason?: string;
}

export interface HttpProbe {
  address: string;
  port: number;
  path: string;
  expectedStatus: number;
  timeoutMs: number;
}

export interface TcpProbe {
  address: string;
  port: number;
  timeoutMs: number;
}

// Passes iff the response status equals expectedStatus. A fresh connection
// each time (agent: false): a probe must see what a new client would see.
export function probeHttp(probe: HttpProbe, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = probe.address.includes(':') ? `[${probe.address}]` : probe.address;
    let settled = false;
    const settle = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = request(`http://${host}:${probe.port}${probe.path}`, {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'meridian-health-check', connection: 'close' },
      signal,
    });
    // The deadline also bounds the discarded body, so a slow body cannot hold a socket.
    const deadline = stallTolerantDeadline(probe.timeoutMs, () => {
      settle({ ok: false, reason: `no response within ${probe.timeoutMs}ms` });
      req.destroy();
    });
    req.on('response', (res) => {
      res.on('end', () => deadline.clear());
      res.on('error', () => undefined);
      res.resume();
      settle(
        res.statusCode === probe.expectedStatus
          ? { ok: true }
          : { ok: false, reason: `status ${res.statusCode}, expected ${probe.expectedStatus}` },
      );
    });
    req.on('error', (err) => {
      deadline.clear();
      settle({ ok: false, reason: err.message });
    });
    req.end();
  });
}

// Passes iff a TCP connection is established within the timeout.
export function probeTcp(probe: TcpProbe, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: probe.address, port: probe.port, signal });
    const finish = (result: ProbeResult): void => {
      deadline.clear();
      socket.destroy();
      resolve(result);
    };
    const deadline = stallTolerantDeadline(probe.timeoutMs, () => finish({ ok: false, reason: `no connection within ${probe.timeoutMs}ms` }));
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (err) => finish({ ok: false, reason: err.message }));
  });
}

