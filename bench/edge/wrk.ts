// Runs wrk (the load generator of every row) and reads its report: requests
// per second, the latency distribution (--latency), errors. An optional Lua
// delay() throttles each connection to one request per `delayMs` plus the
// response time, which is how the fixed-rate latency rows are made (wrk2,
// the open-loop variant, is not packaged in Debian).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WrkOptions {
  port: number;
  host: string;
  connections: number;
  seconds: number;
  // taskset CPU list for wrk, e.g. "1".
  cpus: string;
  // Per connection, milliseconds between a response and the next request.
  delayMs?: number;
  // Where a Lua script may be written.
  scratchDir: string;
  // https (the TLS rows) or http (the default); the path, "/" by default.
  scheme?: 'http' | 'https';
  path?: string;
}

export interface WrkResult {
  command: string;
  requests: number;
  seconds: number;
  rps: number;
  // Milliseconds.
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export function wrkCommand(o: WrkOptions): string[] {
  const args = ['taskset', '-c', o.cpus, 'wrk', '-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-H', `Host: ${o.host}`];
  if (o.delayMs !== undefined) {
    const script = path.join(o.scratchDir, `delay-${o.delayMs}ms.lua`);
    fs.writeFileSync(script, `-- one request per connection every ${o.delayMs} ms plus the response time\nfunction delay()\n  return ${o.delayMs}\nend\n`);
    args.push('-s', script);
  }
  args.push(`${o.scheme ?? 'http'}://127.0.0.1:${o.port}${o.path ?? '/'}`);
  return args;
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const argv = wrkCommand(o);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`wrk exited with ${code}: ${out}`);
        resolve(parseWrk(out, argv.join(' ')));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v;
}

export function parseWrk(out: string, command: string): WrkResult {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk output without ${re}: ${out}`);
    return m;
  };
  const pct = (p: number) => {
    const m = num(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return ms(m[1], m[2]);
  };
  const total = num(/(\d+) requests in ([\d.]+)(us|ms|s|m)/);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    command,
    requests: Number(total[1]),
    seconds: ms(total[2], total[3]) / 1000,
    rps: Number(num(/Requests\/sec:\s+([\d.]+)/)[1]),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    errors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}
