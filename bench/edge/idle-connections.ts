// A helper process of the bench's memory step: opens BENCH_IDLE_COUNT
// keep-alive connections to 127.0.0.1:BENCH_IDLE_PORT, sends one request on
// each (GET /, Host: BENCH_IDLE_HOST) and reads its whole response, then
// leaves every connection open and idle. Prints one JSON line once all are
// open ({ open, failed, closed }), and another when told to finish (stdin
// closed) or after BENCH_IDLE_HOLD_SECONDS, then closes them and exits.
// Bounded: at most 20,000 connections, 200 being opened at once, 60 s to
// open them all.
import * as net from 'node:net';

const PORT = Number(process.env.BENCH_IDLE_PORT);
const HOST = process.env.BENCH_IDLE_HOST ?? 'localhost';
const COUNT = Number(process.env.BENCH_IDLE_COUNT ?? 10_000);
const HOLD_SECONDS = Number(process.env.BENCH_IDLE_HOLD_SECONDS ?? 60);
const AT_ONCE = 200;
const OPEN_DEADLINE_MS = 60_000;

if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) throw new Error(`BENCH_IDLE_PORT: expected a port, got '${process.env.BENCH_IDLE_PORT}'`);
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 20_000) throw new Error(`BENCH_IDLE_COUNT: expected 1-20000, got '${process.env.BENCH_IDLE_COUNT}'`);
if (!(HOLD_SECONDS > 0 && HOLD_SECONDS <= 120)) throw new Error(`BENCH_IDLE_HOLD_SECONDS: expected 1-120, got '${process.env.BENCH_IDLE_HOLD_SECONDS}'`);

const sockets: net.Socket[] = [];
let failed = 0;
let closed = 0;

// Resolves once the response to one GET has been read whole (Content-Length
// or chunked), with the socket left open.
function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(PORT, '127.0.0.1');
    let buf = '';
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      socket.setTimeout(0);
      if (ok) {
        sockets.push(socket);
        socket.removeAllListeners('data');
        socket.once('close', () => closed++);
      } else {
        failed++;
        socket.destroy();
      }
      resolve();
    };
    socket.setTimeout(10_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
    socket.once('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`));
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!/^HTTP\/1\.1 200 /.test(buf)) return finish(false);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, end));
      if (length !== null ? buf.length - end - 4 >= Number(length[1]) : buf.endsWith('0\r\n\r\n')) finish(true);
    });
  });
}

async function main(): Promise<void> {
  const deadline = Date.now() + OPEN_DEADLINE_MS;
  let next = 0;
  const opener = async () => {
    while (next < COUNT && Date.now() < deadline) {
      next++;
      await openOne();
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, opener));
  const report = (phase: string) => process.stdout.write(JSON.stringify({ phase, open: sockets.length - closed, failed, closed }) + '\n');
  report('open');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, HOLD_SECONDS * 1000);
    process.stdin.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    process.stdin.resume();
  });
  report('done');
  for (const s of sockets) s.destroy();
}

main().catch((err: Error) => {
  process.stderr.write(`idle-connections: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
