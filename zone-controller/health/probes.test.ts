// The probes against real sockets on 127.0.0.1, with the event loop blocked
// past their timeout the way a loaded host blocks it: what completed
// meanwhile passes; what never answers still fails, not before its timeout
// (how soon after is the deadline's own test, on controlled time).
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { probeHttp, probeTcp } from './probes';

// Blocks this thread for at least ms and until done() (bounded: a hang throws).
function blockLoop(ms: number, done: () => boolean = () => true): void {
  const start = performance.now();
  while (performance.now() - start < ms || !done()) {
    if (performance.now() - start > 30_000) throw new Error('what the blocked loop waited for never happened');
  }
}

// An HTTP server on a thread of its own, so it can answer while this
// thread is blocked. state: [requests received, go (answer now), answers
// handed to the kernel]; a request is held until go is set.
const ANSWERING_SERVER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const state = new Int32Array(workerData);
const server = http.createServer((req, res) => {
  Atomics.add(state, 0, 1);
  Atomics.wait(state, 1, 0, 30000);
  res.writeHead(200).end('ok', () => Atomics.add(state, 2, 1));
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

async function listen<T extends HttpServer | TcpServer>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 30_000) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('health probes on a stalled event loop', () => {
  const state = new Int32Array(new SharedArrayBuffer(12));
  const answering = new Worker(ANSWERING_SERVER, { eval: true, workerData: state.buffer });
  // Accepts, reads the request, never answers.
  const hanging = createHttpServer(() => undefined);
  const tcp = createTcpServer((s) => s.destroy());
  const ports = { answering: 0, hanging: 0, tcp: 0 };
  const signal = new AbortController().signal;

  before(async () => {
    ports.answering = await new Promise<number>((resolve, reject) => answering.once('message', resolve).once('error', reject));
    ports.hanging = await listen(hanging);
    ports.tcp = await listen(tcp);
  });
  after(() => {
    void answering.terminate();
    hanging.closeAllConnections();
    for (const s of [hanging, tcp]) s.close();
  });

  it('a TCP handshake that completed while the loop was blocked past the timeout passes', async () => {
    const probe = probeTcp({ address: '127.0.0.1', port: ports.tcp, timeoutMs: 50 }, signal);
    // net.connect dials on the next tick: dialled, then blocked.
    await new Promise((resolve) => process.nextTick(resolve));
    blockLoop(300);
    assert.deepEqual(await probe, { ok: true });
  });

  it('an HTTP answer that came while the loop was blocked past the timeout passes', async () => {
    const received = Atomics.load(state, 0);
    const answered = Atomics.load(state, 2);
    Atomics.store(state, 1, 0);
    const t0 = performance.now();
    const probe = probeHttp({ address: '127.0.0.1', port: ports.answering, path: '/healthz', expectedStatus: 200, timeoutMs: 2_000 }, signal);
    // The loop runs until the request is out; then it is blocked past the
    // timeout, and the server answers meanwhile.
    await until('the request reached the server', () => Atomics.load(state, 0) > received);
    Atomics.store(state, 1, 1);
    Atomics.notify(state, 1);
    blockLoop(2_200 - (performance.now() - t0), () => Atomics.load(state, 2) > answered);
    assert.deepEqual(await probe, { ok: true });
  });

  it('an instance that never answers still fails, after the timeout, however long the loop stalls', async () => {
    const t0 = performance.now();
    const quiet = await probeHttp({ address: '127.0.0.1', port: ports.hanging, path: '/', expectedStatus: 200, timeoutMs: 100 }, signal);
    const quietMs = performance.now() - t0;
    assert.deepEqual(quiet, { ok: false, reason: 'no response within 100ms' });
    assert.ok(quietMs >= 99, `failed after ${Math.round(quietMs)} ms, before its timeout`);

    // However long the loop stalls (here past 3 timeouts), it still fails.
    const probe = probeHttp({ address: '127.0.0.1', port: ports.hanging, path: '/', expectedStatus: 200, timeoutMs: 100 }, signal);
    blockLoop(400);
    assert.deepEqual(await probe, { ok: false, reason: 'no response within 100ms' });
  });
});
