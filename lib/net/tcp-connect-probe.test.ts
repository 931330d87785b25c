// probeTcpConnect against real sockets on 127.0.0.1: a listener answers, a
// closed port does not, and a blocked event loop longer than the timeout is
// not a miss when the handshake completed meanwhile.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { probeTcpConnect, probeTimeoutMs } from './tcp-connect-probe';

async function listener(): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('probeTcpConnect', () => {
  it('is up on a listener, with its handshake time, and down on a closed port', async () => {
    const server = await listener();
    const port = (server.address() as net.AddressInfo).port;
    const up = await probeTcpConnect(`127.0.0.1:${port}`, 1000);
    assert.equal(up.up, true);
    // A measured figure: only its sign is behaviour (a stalled loop may stretch it).
    assert.ok(up.rttMs > 0, `rtt ${up.rttMs}`);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.deepEqual(await probeTcpConnect(`127.0.0.1:${port}`, 1000), { up: false, rttMs: 0 });
    assert.deepEqual(await probeTcpConnect('not an address', 1000), { up: false, rttMs: 0 });
  });

  it('counts a handshake that completed while the event loop was blocked past the timeout', async () => {
    const server = await listener();
    const port = (server.address() as net.AddressInfo).port;
    try {
      const probe = probeTcpConnect(`127.0.0.1:${port}`, 50);
      blockLoop(300);
      const r = await probe;
      console.log(`# loop blocked 300 ms, probe timeout 50 ms: up ${r.up}, ${Math.round(r.rttMs)} ms`);
      assert.equal(r.up, true);
    } finally {
      server.close();
    }
  });

  it('times out after 4 round trips, within 300 ms and 1 s', () => {
    assert.equal(probeTimeoutMs(0), 300);
    assert.equal(probeTimeoutMs(2), 300);
    assert.equal(probeTimeoutMs(150), 600);
    assert.equal(probeTimeoutMs(400), 1000);
    assert.equal(probeTimeoutMs(Infinity), 1000);
    assert.equal(probeTimeoutMs(Number.NaN), 300);
  });
});
