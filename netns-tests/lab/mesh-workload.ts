// A workload of a region calling `<service>.mesh`, as an application on the
// region's private network would: it asks the zone DNS for the name (node's
// resolver pointed at the zone DNS, no system resolver involved) and calls
// the address it got. Programs run inside the workload's namespace:
// - a DNS lookup;
// - a steady HTTP stream (a fixed rate, a fresh lookup and connection per
//   request) that reports who served each request;
// - a redis-cli loop (a new connection each: PING, then GET region, which
//   each lab redis answers with its region's name);
// - one long-lived redis connection that PINGs on until it breaks.
// Each one stops by itself within a bounded time.
import type { Lab } from './lab';
import type { LabNode } from './address-plan';
import type { LabProcess } from './lab-process';
import { waitForResult } from './wait-for-result';

const RESOLVE = `
const [server, name] = process.argv.slice(1);
const resolver = new (require('dns').promises.Resolver)({ timeout: 1000, tries: 2 });
resolver.setServers([server]);
resolver.resolve4(name).then(
  (a) => { console.log(JSON.stringify({ addresses: a })); process.exit(0); },
  (e) => { console.log(JSON.stringify({ error: e.code || e.message })); process.exit(0); },
);
`;

// Starts a request every 1000/rate ms (not waiting for the previous one),
// until maxCount were started or durationMs passed; then waits for the last
// answers and prints {"done":true}.
const HTTP_STREAM = `
const [server, name, port, rate, durationMs, maxCount, timeoutMs] = process.argv.slice(1).map((v, i) => (i > 1 ? Number(v) : v));
const http = require('http');
const resolver = new (require('dns').promises.Resolver)({ timeout: 1000, tries: 2 });
resolver.setServers([server]);
const end = Date.now() + durationMs;
let started = 0, answered = 0, stopped = false;
const finish = () => { console.log(JSON.stringify({ done: true, started, answered })); process.exit(0); };
function one(i) {
  const t = Date.now();
  const out = (o) => {
    console.log(JSON.stringify({ i, t, ms: Date.now() - t, ...o }));
    if (++answered === started && stopped) finish();
  };
  resolver.resolve4(name).then((addresses) => {
    const address = addresses[0];
    const req = http.get({ host: address, port, path: '/', agent: false, timeout: timeoutMs, headers: { host: name } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let served;
        try { served = JSON.parse(body).region; } catch {}
        const ok = res.statusCode === 200;
        out({ address, ok, status: res.statusCode, region: res.headers['x-meridian-region'], served, edge: res.headers['x-meridian-edge'], error: ok ? undefined : body.slice(0, 200) });
      });
      res.on('error', (e) => out({ address, ok: false, error: e.code || e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => out({ address, ok: false, error: e.code || e.message }));
  }, (e) => out({ ok: false, error: 'dns: ' + (e.code || e.message) }));
}
console.log(JSON.stringify({ started: Date.now() }));
const timer = setInterval(() => {
  if (started >= maxCount || Date.now() >= end) {
    clearInterval(timer);
    stopped = true;
    if (answered === started) finish();
    return;
  }
  one(started++);
}, 1000 / rate);
setTimeout(() => { console.log(JSON.stringify({ done: true, started, answered, cutShort: true })); process.exit(0); }, durationMs + timeoutMs + 5000).unref();
`;

// One redis-cli at a time, a new connection each, every intervalMs.
const REDIS_LOOP = `
const [server, name, port, intervalMs, durationMs, timeoutMs] = process.argv.slice(1).map((v, i) => (i > 1 ? Number(v) : v));
const { spawn } = require('child_process');
const resolver = new (require('dns').promises.Resolver)({ timeout: 1000, tries: 2 });
resolver.setServers([server]);
const end = Date.now() + durationMs;
let stop = false;
process.on('SIGTERM', () => (stop = true));
function cli(address) {
  return new Promise((resolve) => {
    const p = spawn('redis-cli', ['-h', address, '-p', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => { clearTimeout(kill); resolve({ out: out.trim(), code, signal }); });
    p.stdin.end('PING\\nGET region\\n');
  });
}
(async () => {
  console.log(JSON.stringify({ started: Date.now() }));
  while (!stop && Date.now() < end) {
    const t = Date.now();
    let r;
    try {
      const address = (await resolver.resolve4(name))[0];
      const c = await cli(address);
      const lines = c.out.split('\\n');
      const pong = lines[0] === 'PONG';
      // GET region answers the region's name; an error there: the connection broke after the PONG.
      const region = lines[1] && !lines[1].startsWith('Error') ? lines[1] : undefined;
      r = { t, ms: Date.now() - t, address, ok: pong, region, error: !pong ? c.out.slice(0, 200) || String(c.signal || c.code) : region ? undefined : 'GET region: ' + (lines[1] || 'no answer') };
    } catch (e) {
      r = { t, ms: Date.now() - t, ok: false, error: 'dns: ' + (e.code || e.message) };
    }
    console.log(JSON.stringify(r));
    const wait = intervalMs - (Date.now() - t);
    if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
  }
  console.log(JSON.stringify({ done: true }));
  process.exit(0);
})();
`;

// GET region once, then PING every intervalMs on the same connection until
// it closes or durationMs passed.
const REDIS_HELD = `
const [server, name, port, intervalMs, durationMs] = process.argv.slice(1).map((v, i) => (i > 1 ? Number(v) : v));
const net = require('net');
const resolver = new (require('dns').promises.Resolver)({ timeout: 1000, tries: 2 });
resolver.setServers([server]);
resolver.resolve4(name).then((addresses) => {
  const address = addresses[0];
  const sock = net.connect(port, address);
  let pongs = 0, region, buf = '', timer, last = Date.now();
  const finish = (o) => { clearInterval(timer); console.log(JSON.stringify({ t: Date.now(), address, region, pongs, lastPongAt: last, ...o })); process.exit(0); };
  sock.on('connect', () => {
    sock.write('GET region\\r\\n');
    timer = setInterval(() => sock.write('PING\\r\\n'), intervalMs);
    console.log(JSON.stringify({ connected: Date.now(), address }));
  });
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\\r\\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line === '+PONG') { pongs++; last = Date.now(); }
      else if (line.startsWith('$')) continue;
      else if (region === undefined) { region = line; console.log(JSON.stringify({ region })); }
    }
  });
  sock.on('error', (e) => finish({ broke: true, error: e.code || e.message }));
  sock.on('close', () => finish({ broke: true, error: 'closed' }));
  setTimeout(() => { sock.removeAllListeners('close'); finish({ broke: false }); sock.destroy(); }, durationMs);
}, (e) => { console.log(JSON.stringify({ broke: true, error: 'dns: ' + (e.code || e.message), pongs: 0 })); process.exit(0); });
`;

export interface DnsServer {
  host: string;
  port: number;
}

const server = (d: DnsServer) => `${d.host}:${d.port}`;

// The A records the zone DNS gives the workload for `name`, or the resolver's error code.
export async function resolveMesh(lab: Lab, node: LabNode, dns: DnsServer, name: string): Promise<{ addresses?: string[]; error?: string }> {
  const { stdout } = await lab.exec(node, process.execPath, ['-e', RESOLVE, server(dns), name], { timeoutMs: 10_000 });
  return JSON.parse(stdout.trim()) as { addresses?: string[]; error?: string };
}

export interface WorkloadAnswer {
  i?: number;
  t: number;
  ms: number;
  ok: boolean;
  address?: string;
  status?: number;
  // x-meridian-region (HTTP) or what `GET region` answered (redis).
  region?: string;
  // The region the echo instance names in its body.
  served?: string;
  edge?: string;
  error?: string;
}

// A workload program's JSON lines: answers, and the line that ends it.
abstract class WorkloadRun {
  readonly results: WorkloadAnswer[] = [];
  readonly events: Record<string, unknown>[] = [];

  protected constructor(readonly process: LabProcess) {
    process.onLine((line, stream) => {
      if (stream !== 'stdout' || !line.startsWith('{')) return;
      const r = JSON.parse(line) as Record<string, unknown>;
      if (typeof r.t === 'number' && typeof r.ok === 'boolean') this.results.push(r as unknown as WorkloadAnswer);
      else this.events.push(r);
    });
  }

  async waitFor(pred: (r: WorkloadAnswer) => boolean, timeoutMs: number, from = 0): Promise<WorkloadAnswer> {
    return waitForResult(this.results, this.process, pred, timeoutMs, from, describe);
  }


  // Resolves when the program has ended (by itself: it is bounded).
  async finished(timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.process.killNow(), timeoutMs);
    await this.process.exited;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 3000);
  }
}

export function describe(rs: WorkloadAnswer[]): string {
  return rs.map((r) => (r.ok ? `${r.region}` : `${r.status ?? ''} ${(r.error ?? '').split('\n')[0]}`.trim())).join(', ');
}

// Requests per serving region, e.g. { fra: 97, iad: 203 }; failures under
// 'failed', answers that name no region under what went wrong after them.
export function countByRegion(rs: WorkloadAnswer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rs) {
    const k = !r.ok ? 'failed' : (r.region ?? (r.error ? `ok, then ${r.error}` : 'unknown'));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

export interface HttpStreamOptions {
  name: string;
  port?: number;
  ratePerSecond: number;
  durationMs: number;
  maxCount: number;
  timeoutMs?: number;
}

export class WorkloadHttpStream extends WorkloadRun {
  static async start(lab: Lab, node: LabNode, dns: DnsServer, o: HttpStreamOptions): Promise<WorkloadHttpStream> {
    const args = [server(dns), o.name, String(o.port ?? 80), String(o.ratePerSecond), String(o.durationMs), String(o.maxCount), String(o.timeoutMs ?? 3000)];
    const p = lab.spawn(node, process.execPath, ['-e', HTTP_STREAM, ...args], { name: `${node}-http-stream-${Date.now() % 100000}` });
    await p.waitForLine(/"started"/);
    return new WorkloadHttpStream(p);
  }
}

export interface RedisLoopOptions {
  name: string;
  port: number;
  intervalMs: number;
  durationMs: number;
  timeoutMs?: number;
}

export class WorkloadRedisLoop extends WorkloadRun {
  static async start(lab: Lab, node: LabNode, dns: DnsServer, o: RedisLoopOptions): Promise<WorkloadRedisLoop> {
    const args = [server(dns), o.name, String(o.port), String(o.intervalMs), String(o.durationMs), String(o.timeoutMs ?? 3000)];
    const p = lab.spawn(node, process.execPath, ['-e', REDIS_LOOP, ...args], { name: `${node}-redis-loop-${Date.now() % 100000}` });
    await p.waitForLine(/"started"/);
    return new WorkloadRedisLoop(p);
  }
}

export interface HeldConnectionResult {
  broke: boolean;
  error?: string;
  region?: string;
  pongs: number;
  t?: number;
  lastPongAt?: number;
}

export class WorkloadRedisConnection {
  private constructor(readonly process: LabProcess) {}

  static async open(lab: Lab, node: LabNode, dns: DnsServer, o: { name: string; port: number; intervalMs: number; durationMs: number }): Promise<WorkloadRedisConnection> {
    const args = [server(dns), o.name, String(o.port), String(o.intervalMs), String(o.durationMs)];
    const p = lab.spawn(node, process.execPath, ['-e', REDIS_HELD, ...args], { name: `${node}-redis-held-${Date.now() % 100000}` });
    const c = new WorkloadRedisConnection(p);
    await p.waitForLine(/"region"|"broke"/);
    return c;
  }

  // The region that answered its GET region.
  get region(): string | undefined {
    const line = this.process.stdout.split('\n').find((l) => l.startsWith('{"region"'));
    return line ? (JSON.parse(line) as { region: string }).region : undefined;
  }

  // Its last line: broken (and why) or held to the end.
  async result(timeoutMs: number): Promise<HeldConnectionResult> {
    const line = await this.process.waitForLine(/"broke"/, timeoutMs);
    return JSON.parse(line) as HeldConnectionResult;
  }
}
