// Hands out loopback ports for child processes that must be told their port
// before they listen (etcd, controllers, edges in tests and benches).
//
// Why not listen(0) and close: the kernel gives such a port from the
// ephemeral range, and in the gap before the child binds it any outgoing
// connection on the host may take it as its local port (EADDRINUSE in CI).
// So ports come from below the ephemeral range, where no outgoing connection
// ever lands, and a reservation file made with O_EXCL keeps two processes on
// the host (test files run side by side) from handing out the same one.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const RANGE_LOW = 20000; // above every fixed demo port (--port-offset up to 4700 in tests and benches)
const RANGE_HIGH = 32000; // the default ephemeral range starts at 32768
// A reservation older than this is taken as left behind: an hour covers a
// child restarted on its port (tests, the soak) and leaves the 12,000 ports
// far from full. The bind check below still refuses a port in use.
const RESERVATION_TTL_MS = 3600_000;

export interface FreePortOptions {
  // Where reservations are kept; tests of this module pass their own.
  reservationDir?: string;
  low?: number;
  high?: number;
}

export async function freePort(opts: FreePortOptions = {}): Promise<number> {
  const dir = opts.reservationDir ?? path.join(os.tmpdir(), 'meridian-ports');
  const low = opts.low ?? RANGE_LOW;
  const high = opts.high ?? RANGE_HIGH;
  fs.mkdirSync(dir, { recursive: true });
  const span = high - low + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = low + ((start + i) % span);
    if (!reserve(dir, port)) continue;
    if (await canBind(port)) return port;
  }
  throw new Error(`no free loopback port in ${low}-${high}`);
}

function reserve(dir: string, port: number): boolean {
  const file = path.join(dir, String(port));
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  try {
    if (Date.now() - fs.statSync(file).mtimeMs < RESERVATION_TTL_MS) return false;
    // Stale: take it over, then check nobody raced us to the same takeover.
    fs.writeFileSync(file, String(process.pid));
    return fs.readFileSync(file, 'utf8') === String(process.pid);
  } catch {
    return false;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
