// Measures the two ways of sending a request with undici and streaming the
// answer on: pool.request (a Readable body piped to the client response) and
// pool.dispatch (a handler writing each chunk itself), as exchange.ts does.
// Bounded: BENCH_REQUESTS requests (default 20,000) or 20 s per variant.
//   node dist/edge/bench/dispatch-vs-request.js
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = 32;
const MAX_MS = 20_000;
const BODY = Buffer.alloc(1024, 'x');

class Sink extends Writable {
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    cb();
  }
}

class Handler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly sink: Sink,
    private readonly done: (err?: Error) => void,
  ) {}
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.sink.write(chunk);
  }
  onResponseEnd(): void {
    this.done();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.done(err);
  }
}

async function run(name: string, one: () => Promise<void>): Promise<number> {
  let sent = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (sent < TOTAL && performance.now() - t0 < MAX_MS) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const rps = sent / ((performance.now() - t0) / 1000);
  console.log(`${name.padEnd(16)} ${sent} requests, ${Math.round(rps)} req/s`);
  return rps;
}

async function main(): Promise<void> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length });
    res.end(BODY);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  const headers = ['host', 'echo.mesh', 'x-request-id', 'abc'];

  const viaRequest = async () => {
    const sink = new Sink();
    const res = await pool.request({ path: '/', method: 'GET', headers });
    await new Promise<void>((resolve, reject) => {
      res.body.on('error', reject);
      res.body.pipe(sink).on('finish', () => resolve());
    });
  };
  const viaDispatch = () =>
    new Promise<void>((resolve, reject) => {
      const sink = new Sink();
      pool.dispatch({ path: '/', method: 'GET', headers }, new Handler(sink, (err) => (err ? reject(err) : resolve())));
    });

  // Warm up, then alternate twice so neither gets the cold start.
  await run('warm-up', viaDispatch);
  const results: Record<string, number[]> = { request: [], dispatch: [] };
  for (let round = 0; round < 2; round++) {
    results.request.push(await run('pool.request', viaRequest));
    results.dispatch.push(await run('pool.dispatch', viaDispatch));
  }
  const best = (xs: number[]) => Math.round(Math.max(...xs));
  console.log(`best: pool.request ${best(results.request)} req/s, pool.dispatch ${best(results.dispatch)} req/s`);
  await pool.close();
  server.close();
}

void main();
