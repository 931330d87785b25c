// Raw TCP to a listener, for what a well-behaved client never sends:
// smuggling shapes, oversized headers, headers sent one byte at a time.
import * as net from 'node:net';

export interface RawResult {
  // Everything the server sent before closing (or before the wait ended).
  data: string;
  closed: boolean;
  ms: number;
}

// Sends `text`, then collects the answer until the server closes the
// connection or `waitMs` passes.
export function rawExchange(port: number, text: string | Buffer, waitMs = 3_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
    socket.write(text);
  });
}

// A slowloris client: starts a request and sends one header byte every
// `everyMs`, up to `maxMs`; resolves when the server closes the connection.
export function slowloris(port: number, everyMs: number, maxMs: number): Promise<RawResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const payload = 'GET / HTTP/1.1\r\nHost: echo.mesh\r\nX-Slow: ' + 'a'.repeat(10_000);
    let i = 0;
    const tick = setInterval(() => {
      if (socket.writable && i < payload.length) socket.write(payload[i++]);
    }, everyMs);
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearInterval(tick);
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(false), maxMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => done(true));
  });
}
