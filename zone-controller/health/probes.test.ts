// The probes against real sockets on 127.0.0.1, with the event loop blocked
// past their timeout the way a loaded host blocks it: what completed
// meanwhile passes; what never answers still fails, within its bound.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { probeHttp, probeTcp } from './probes';

function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

async function listen<T extends HttpServer | TcpServer>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('health probes on a stalled event loop', () => {
  const answering = createHttpServer((_req, res) => res.writeHead(200).end('ok'));
  // Accepts, reads the request, never answers.
  const hanging = createHttpServer(() => undefined);
  const tcp = createTcpServer((s) => s.destroy());
  const ports = { answering: 0, hanging: 0, tcp: 0 };
  const signal = new AbortController().signal;

  before(async () => {
    ports.answering = await listen(answering);
    ports.hanging = await listen(hanging);
    ports.tcp = await listen(tcp);
  });
  after(() => {
    answering.closeAllConnections();
    hanging.closeAllConnections();
    for (const s of [answering, hanging, tcp]) s.close();
  });

  it('a TCP handshake that completed while the loop was blocked past the timeout passes', async () => {
    const probe = probeTcp({ address: '127.0.0.1', port: ports.tcp, timeoutMs: 50 }, signal);
    blockLoop(300);
    assert.deepEqual(await probe, { ok: true });
  });

  it('an HTTP answer that came while the loop was blocked past the timeout passes', async () => {
    const probe = probeHttp({ address: '127.0.0.1', port: ports.answering, path: '/healthz', expectedStatus: 200, timeoutMs: 50 }, signal);
    blockLoop(120);
    assert.deepEqual(await probe, { ok: true });
  });

  it('an instance that never answers still fails, after the timeout, however long the loop stalls', async () => {
    let t0 = performance.now();
    const quiet = await probeHttp({ address: '127.0.0.1', port: ports.hanging, path: '/', expectedStatus: 200, timeoutMs: 100 }, signal);
    const quietMs = performance.now() - t0;
    assert.deepEqual(quiet, { ok: false, reason: 'no response within 100ms' });
    assert.ok(quietMs >= 99 && quietMs < 250, `failed after ${Math.round(quietMs)} ms`);

    // However long the loop stalls (here past 3 timeouts), it still fails.
    t0 = performance.now();
    const probe = probeHttp({ address: '127.0.0.1', port: ports.hanging, path: '/', expectedStatus: 200, timeoutMs: 100 }, signal);
    blockLoop(400);
    const stalled = await probe;
    const stalledMs = performance.now() - t0;
    assert.deepEqual(stalled, { ok: false, reason: 'no response within 100ms' });
    assert.ok(stalledMs < 480, `blocked 400 ms: failed after ${Math.round(stalledMs)} ms`);
  });
});
