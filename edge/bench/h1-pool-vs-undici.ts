// Compares the two HTTP/1.1 engines of createInstancePool on the request
// path exchange.ts takes (dispatch with a handler, headers as a flat list):
// undici's Pool and the fast pool (upstream/h1-instance-pool.ts). The
// instance is a raw TCP server in this process answering a canned 1 KiB
// response, so that as little as possible of the CPU measured is the
// server's. Prints requests/s and the process's CPU time per request.
// Bounded: BENCH_REQUESTS requests (default 20,000) or 20 s per engine,
// run twice each in alternation.
//   node dist/edge/bench/h1-pool-vs-undici.js
import * as net from 'node:net';
import type { Dispatcher } from 'undici';
import { createInstancePool, type Http1PoolEngine } from '../upstream/instance-pool';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = 32;
const MAX_MS = 20_000;
const RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1024\r\nkeep-alive: timeout=30\r\n\r\n${'x'.repeat(1024)}`);
const HEADERS = ['host', 'svc.mesh', 'user-agent', 'bench', 'accept', '*/*', 'x-forwarded-for', '127.0.0.1', 'x-forwarded-proto', 'http', 'x-request-id', 'abc'];

class Handler implements Dispatcher.DispatchHandler {
  bytes = 0;
  constructor(private readonly done: (err?: Error) => void) {}
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
  }
  onResponseEnd(): void {
    this.done();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.done(err);
  }
}

function one(pool: UpstreamDispatcher): Promise<void> {
  return new Promise((resolve, reject) => {
    pool.dispatch({ method: 'GET', path: '/bench', headers: HEADERS, body: null, headersTimeout: 10_000, bodyTimeout: 10_000 }, new Handler((err) => (err ? reject(err) : resolve())));
  });
}

async function run(engine: Http1PoolEngine, port: number): Promise<void> {
  const pool = createInstancePool('127.0.0.1', port, { connectTimeoutMs: 2_000, connections: 256, http2: false, engine });
  let sent = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const worker = async () => {
    while (sent < TOTAL && performance.now() - t0 < MAX_MS) {
      sent++;
      await one(pool);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await pool.close();
  const perRequestUs = (cpu.user + cpu.system) / sent;
  console.log(`${engine.padEnd(7)} ${sent} requests, ${Math.round(sent / (ms / 1000))} req/s, ${perRequestUs.toFixed(1)} us CPU per request (server included)`);
}

async function main(): Promise<void> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        pending = pending.slice(end + 4);
        socket.write(RESPONSE);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  for (let round = 0; round < 2; round++) {
    await run('undici', port);
    await run('fast', port);
  }
  server.close();
}

void main();
