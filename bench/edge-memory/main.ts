// Edge memory at full size, in about a minute: a real edge process (`meridian
// edge` in discovery mode) on a discovery stream fed by this process the way
// a zone controller feeds it (./discovery-feed.ts), without the control
// plane's processes. Prints the edge's RSS (VmRSS), heap used and external
// memory once settled, the heap used after a full GC (asked for through the
// edge's inspector, on loopback), and how long the edge took to apply each
// one-service change (its own "view applied" debug lines).
//
//   node dist/bench/edge-memory/main.js [--services 10000] [--regions 10]
//     [--start empty|full] [--batch 20] [--changes 300] [--requests 100]
//     [--settle 10] [--heap-snapshot DIR]
//
// --start empty (the control-plane bench's order): the edge connects before
// any instance exists and learns them from --batch-sized updates; full: one
// full view with everything. --requests: that many services get a request
// each through the edge (their backends are then in use).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { discoveryProto } from '../../lib/grpc/protos';
import { freePort } from '../../lib/process/free-port';
import { PartProcess, waitFor } from '../../lib/process/part-process';
import { MERIDIAN_BIN } from '../../test-support/repo-root';
import { viewParts } from '../../lib/grpc/view-parts';
import { numberOption, parseOrUsage, runBench } from '../bench-cli';
import { serviceName } from '../control-plane/fixtures';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import { fullView, serviceUpdate, type FeedOptions } from './discovery-feed';

const USAGE = `node dist/bench/edge-memory/main.js [--services N] [--regions N] [--start empty|full] [--batch N] [--changes N] [--requests N] [--settle SECONDS] [--heap-snapshot DIR]\n`;

interface Options {
  services: number;
  regions: number;
  start: 'empty' | 'full';
  batch: number;
  changes: number;
  requests: number;
  settleS: number;
  heapSnapshot: string | undefined;
}

function parse(argv: string[]): Options | undefined {
  const o: Options = { services: 10_000, regions: 10, start: 'empty', batch: 20, changes: 300, requests: 100, settleS: 10, heapSnapshot: undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]}: a value is needed`);
      return v;
    };
    switch (argv[i]) {
      case '--services': o.services = numberOption(value(), 'services', 1, 100_000); break;
      case '--regions': o.regions = numberOption(value(), 'regions', 1, 50); break;
      case '--batch': o.batch = numberOption(value(), 'batch', 1, 10_000); break;
      case '--changes': o.changes = numberOption(value(), 'changes', 0, 100_000); break;
      case '--requests': o.requests = numberOption(value(), 'requests', 0, 100_000); break;
      case '--settle': o.settleS = numberOption(value(), 'settle', 0, 600); break;
      case '--heap-snapshot': o.heapSnapshot = path.resolve(value()); break;
      case '--start': {
        const v = value();
        if (v !== 'empty' && v !== 'full') throw new Error('--start: empty or full');
        o.start = v;
        break;
      }
      case '--help': return undefined;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (o.requests > o.services) throw new Error('--requests: at most --services');
  return o;
}

// The stream to the one edge: each view is sent as the zone's parts, waiting
// for each write (the zone's own flow control).
class Feed {
  private call: grpc.ServerWritableStream<unknown, View> | undefined;
  private connected: (() => void) | undefined;
  readonly server = new grpc.Server();

  constructor() {
    const proto = discoveryProto().meridian.discovery.v1.Discovery;
    this.server.addService(proto.service, {
      Watch: (call: grpc.ServerWritableStream<unknown, View>) => {
        this.call = call;
        call.on('error', () => undefined);
        this.connected?.();
      },
      Report: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, {}),
      // A zone without a CA (as in the control-plane bench): no mesh TLS.
      DescribeIdentity: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'this zone has no CA' }),
      IssueCertificate: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'this zone has no CA' }),
    });
  }

  async listen(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }

  waitForEdge(timeoutMs: number): Promise<void> {
    if (this.call) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the edge did not open the discovery stream')), timeoutMs);
      this.connected = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async send(view: View): Promise<void> {
    for (const part of viewParts(view)) {
      const call = this.call;
      if (!call) throw new Error('the edge closed the discovery stream');
      await new Promise<void>((resolve, reject) => call.write(part, (err?: Error) => (err ? reject(err) : resolve())));
    }
  }

  close(): void {
    this.call?.end();
    this.server.forceShutdown();
  }
}

const mb = (bytes: number): number => Math.round(bytes / 104857.6) / 10;

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

async function metrics(admin: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${admin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

// A full GC in the edge, through the inspector it listens with (the address
// is in its log).
async function collectGarbage(logFile: string): Promise<void> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(fs.readFileSync(logFile, 'utf8'))?.[1];
  if (url === undefined) throw new Error('the edge has no inspector address in its log');
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to HeapProfiler.collectGarbage within 60 s')), 60_000);
      socket.on('error', reject);
      socket.on('open', () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      socket.on('message', (data) => {
        if ((JSON.parse(String(data)) as { id?: number }).id !== 1) return;
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    socket.close();
  }
}

// fetch() does not let a Host header through.
function get(port: number, host: string): Promise<{ status: number; region: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, region: res.headers['x-meridian-region'] as string | undefined }));
    });
    req.on('timeout', () => req.destroy(new Error(`${host}: no answer within 10 s`)));
    req.on('error', reject);
  });
}

const quantile = (xs: number[], q: number): number => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN;

async function main(): Promise<number> {
  const parsed = parseOrUsage(parse, USAGE);
  if (typeof parsed === 'number') return parsed;
  const o = parsed;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-memory-'));
  const upstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const feedOptions: FeedOptions = { services: o.services, regions: o.regions, upstream: { address: '127.0.0.1', port: (upstream.address() as { port: number }).port } };
  const feed = new Feed();
  const zonePort = await feed.listen();
  const [httpPort, admin] = [await freePort(), await freePort()];
  const nodeFlags = ['--inspect=127.0.0.1:0', ...(o.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${o.heapSnapshot}`] : [])];
  if (o.heapSnapshot) fs.mkdirSync(o.heapSnapshot, { recursive: true });
  const edge = new PartProcess({
    name: 'edge',
    command: process.execPath,
    args: [...nodeFlags, MERIDIAN_BIN(), 'edge', '--mode', 'edge', '--region', 'r00', '--zone', `127.0.0.1:${zonePort}`, '--name', 'edge-r00',
      '--http', `127.0.0.1:${httpPort}`, '--admin', `127.0.0.1:${admin}`, '--drain-period', '100ms'],
    logDir: dir,
    // Debug: a "view applied" line per message, with the time it took.
    env: { MERIDIAN_LOG_LEVEL: 'debug' },
  });
  const t0 = Date.now();
  const say = (line: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
  edge.start();
  try {
    await feed.waitForEdge(30_000);
    let version = 1;
    await feed.send(fullView(version, feedOptions, o.start === 'full'));
    say(`full view sent (${o.start === 'full' ? 'every instance' : 'resources only'})`);
    if (o.start === 'empty') {
      for (let s = 0; s < o.services; s += o.batch) {
        const batch = [];
        for (let k = s; k < Math.min(o.services, s + o.batch); k++) batch.push(k);
        await feed.send(serviceUpdate(++version, feedOptions, batch, true));
      }
      say(`${Math.ceil(o.services / o.batch)} updates of ${o.batch} services sent`);
    }
    await waitFor('the edge at the last version', async () => metric(await metrics(admin), 'meridian_edge_view_version') === version, 300_000, 250);
    say(`edge at version ${version}`);

    for (let i = 0; i < o.requests; i++) {
      const s = Math.floor((i * o.services) / o.requests);
      const res = await get(httpPort, `${serviceName(s)}.bench.example.com`);
      if (res.status !== 200 || res.region !== 'r00') throw new Error(`${serviceName(s)}: ${res.status} from ${res.region}`);
    }
    if (o.requests > 0) say(`${o.requests} services served once each`);

    // One-service changes (a remote count and the local instance flip).
    const changeFrom = version + 1;
    for (let i = 0; i < o.changes; i++) {
      const s = (i * 7919) % o.services;
      await feed.send(serviceUpdate(++version, feedOptions, [s], i % 2 === 1));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Back to healthy, so the last state is full size.
    if (o.changes % 2 === 1) await feed.send(serviceUpdate(++version, feedOptions, [((o.changes - 1) * 7919) % o.services], true));
    await waitFor('the edge at the last version', async () => metric(await metrics(admin), 'meridian_edge_view_version') === version, 120_000, 250);
    say(`${o.changes} one-service changes applied`);

    await new Promise((resolve) => setTimeout(resolve, o.settleS * 1000));
    const rss: number[] = [];
    for (let i = 0; i < 5; i++) {
      rss.push(rssMb(edge.pid!));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const text = await metrics(admin);
    await collectGarbage(edge.logFile);
    const afterGc = await metrics(admin);
    const applyMs: number[] = [];
    for (const line of fs.readFileSync(edge.logFile, 'utf8').split('\n')) {
      if (!line.includes('"view applied"')) continue;
      const entry = JSON.parse(line) as { version: number; ms: number };
      if (entry.version >= changeFrom) applyMs.push(entry.ms);
    }
    const result = {
      services: o.services,
      regions: o.regions,
      start: o.start,
      rssMb: quantile(rss, 0.5),
      heapUsedMb: mb(metric(text, 'nodejs_heap_size_used_bytes')),
      heapTotalMb: mb(metric(text, 'nodejs_heap_size_total_bytes')),
      externalMb: mb(metric(text, 'nodejs_external_memory_bytes')),
      afterGc: { rssMb: rssMb(edge.pid!), heapUsedMb: mb(metric(afterGc, 'nodejs_heap_size_used_bytes')), externalMb: mb(metric(afterGc, 'nodejs_external_memory_bytes')) },
      oneServiceApplyMs: { n: applyMs.length, p50: quantile(applyMs, 0.5), p99: quantile(applyMs, 0.99), max: quantile(applyMs, 1) },
    };
    say(JSON.stringify(result));
    if (o.heapSnapshot) {
      process.kill(edge.pid!, 'SIGUSR2');
      await waitFor('the heap snapshot', () => {
        const files = fs.readdirSync(o.heapSnapshot!).filter((f) => f.endsWith('.heapsnapshot'));
        return files.length > 0 && rssMb(edge.pid!) > 0 ? files : undefined;
      }, 120_000, 1000);
      // Written when the edge answers again.
      await metrics(admin).catch(() => metrics(admin));
      say(`heap snapshot in ${o.heapSnapshot}`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${edge.tail(20)}\n`);
    return 1;
  } finally {
    await edge.stop('SIGTERM', 5_000);
    feed.close();
    upstream.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
