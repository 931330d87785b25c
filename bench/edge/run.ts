// `npm run bench`: the edge against its peers, in one go, bounded in time.
//
// One backend (nginx, one worker, answering a fixed JSON body) and one load
// generator (wrk, one thread, the same connections for every row). On a
// 2-core machine the proxy under test gets core 0 to itself and wrk shares
// core 1 with the backend (taskset), so every proxy meets the same load
// generator and backend. Rows: direct to the backend (the limit of the load
// side), the edge (`meridian edge --config`, one worker), the same edge's mesh
// listener (wrk as a workload of the region calling http://bench.mesh), nginx as a reverse
// proxy (one worker, keep-alive upstream), HAProxy (one thread, http-reuse
// always), @fastify/http-proxy (one process), a bare node:http + undici
// forwarder (the floor of the edge's stack), and the edge with two workers
// (on both cores, sharing them with wrk and the backend); over TLS, the edge
// and nginx terminating HTTPS for a 1 KB body. The edge rows run with
// bench/edge/runtime-stats-preload.ts, which reports the edge's allocations,
// GC pauses and event-loop delay over the measured run. Then, at half the
// edge's peak rate, the latency the edge adds (p99 through the edge minus p99
// straight to the backend at the same rate), and the mesh listener's; and the
// edge's memory holding 10,000 idle keep-alive connections.
//
// Results go to bench/results/edge-vs-peers.{json,md}. Options:
//   --profile         also profile the edge at its peak (node --cpu-prof) and
//                     summarize where its CPU time goes
//   --only=a,b        rows to run: direct, edge, edge-node, mesh, nginx, haproxy,
//                     fastify, floor, edge-tls, nginx-tls, edge-2-workers,
//                     latency, memory
//   --out=NAME        write bench/results/NAME.{json,md} instead, so a partial
//                     or short run leaves the full run's results alone
//   --note=TEXT       a sentence for the top of the report (how the machine
//                     was shared, why the run is short)
//   BENCH_SECONDS     seconds per measured run (default 8; warm-up 3 s each)
//   BENCH_ROUNDS      rounds over the proxies, median reported (default 3)
//   BENCH_CONNECTIONS wrk connections (default 64)
// Each proxy row also reports requests per CPU-second of the proxy's
// processes (from /proc), which holds up when other work shares the machine.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuSeconds, loadAverage } from './cpu-time';
import { describeMachine } from './machine';
import { openFilesLimit, rssBytes, socketCount } from './memory';
import { backendNginx, edge, edgeConfig, fastify, floor, haproxy, HOST, KB_PATH, meshEdge, proxyNginx, tlsEdge } from './peers';
import { freePort, serving, start, stop, stopAll, type Probe, type Started } from './processes';
import { summarize, type ProfileSummary } from './profile-summary';
import { EDGE_2_WORKERS_ROW, EDGE_ROW, EDGE_TLS_ROW, MESH_ROW, NGINX_ROW, NGINX_TLS_ROW, writeResults, type IdleMemory, type LatencyAtRate, type Results, type Row } from './report';
import type { RuntimeStats } from './runtime-stats-preload';
import { selfSignedCert } from './tls-cert';
import { runWrk, type WrkResult } from './wrk';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SECONDS = Math.min(60, Number(process.env.BENCH_SECONDS ?? 8));
const WARMUP_SECONDS = 3;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Math.max(1, Math.min(5, Number(process.env.BENCH_ROUNDS ?? 3)));
// Think time of each connection in the fixed-rate runs (wrk Lua delay()).
const DELAY_MS = 5;
const PROXY_CPUS = '0';
const LOAD_CPUS = '1';
// The memory step: idle keep-alive connections held open to the edge.
const IDLE_CONNECTIONS = 10_000;
const PRELOAD = path.join(ROOT, 'dist', 'bench', 'edge', 'runtime-stats-preload.js');

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const ONLY_NAMES = ['direct', 'edge', 'edge-node', 'mesh', 'nginx', 'haproxy', 'fastify', 'floor', 'edge-tls', 'nginx-tls', 'edge-2-workers', 'latency', 'memory'];
const wants = (row: string) => only === undefined || only.includes(row);
const profile = args.includes('--profile');
const outName = args.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? 'edge-vs-peers';
const note = args.find((a) => a.startsWith('--note='))?.slice('--note='.length);

async function measure(port: number, cpus = LOAD_CPUS, connections = CONNECTIONS, delayMs?: number, seconds = SECONDS): Promise<WrkResult> {
  const scratchDir = dir;
  await runWrk({ port, host: HOST, connections, seconds: WARMUP_SECONDS, cpus, delayMs, scratchDir });
  return runWrk({ port, host: HOST, connections, seconds, cpus, delayMs, scratchDir });
}

let dir = '';

interface RowSpec {
  key: string;
  name: string;
  what: string;
  command: string[];
  cpus: string;
  env?: NodeJS.ProcessEnv;
  // The port wrk calls, when not the one the proxy rows share (the mesh
  // listener of an edge that also has its --http there).
  port?: number;
  // https and the path for wrk and the readiness check (the TLS rows).
  probe?: Probe;
  // The command loads runtime-stats-preload.ts: signal it around the
  // measured run and read what it wrote.
  runtimeStats?: boolean;
}

interface Sample {
  wrk: WrkResult;
  cpuSeconds: number;
  rssBytes: number;
  runtime?: RuntimeStats;
  load: number;
}

// Where the preload of a row writes (it adds .<pid>.json).
const statsPrefix = (key: string) => path.join(dir, `runtime-${key}`);

// Marks the start or the end of the preload's window in process `pid`; at
// the end, waits (up to 5 s) for the file it writes and reads it.
async function runtimeWindow(pid: number, key: string, end: boolean): Promise<RuntimeStats | undefined> {
  const file = `${statsPrefix(key)}.${pid}.json`;
  if (!end) fs.rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  if (!end) return undefined;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeStats;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the runtime-stats preload of pid ${pid} wrote no ${file}`);
}

// One measured run of one row: start, warm up, measure (with the CPU time
// the proxy used), stop.
async function sample(spec: RowSpec, sharedPort: number): Promise<Sample> {
  const port = spec.port ?? sharedPort;
  const env = spec.runtimeStats ? { ...spec.env, BENCH_RUNTIME_STATS: statsPrefix(spec.key) } : spec.env;
  const p = await start(spec.name, spec.cpus, spec.command, port, HOST, env, spec.probe);
  const pid = p.child.pid!;
  const target = { port, host: HOST, connections: CONNECTIONS, cpus: LOAD_CPUS, scratchDir: dir, scheme: spec.probe?.https ? ('https' as const) : undefined, path: spec.probe?.path };
  try {
    await runWrk({ ...target, seconds: WARMUP_SECONDS });
    if (spec.runtimeStats) await runtimeWindow(pid, spec.key, false);
    const c0 = cpuSeconds(pid);
    const wrk = await runWrk({ ...target, seconds: SECONDS });
    const cpu = cpuSeconds(pid) - c0;
    const rss = rssBytes(pid);
    const runtime = spec.runtimeStats ? await runtimeWindow(pid, spec.key, true) : undefined;
    console.log(
      `${spec.name.padEnd(24)} ${Math.round(wrk.rps).toString().padStart(7)} req/s  p50 ${wrk.p50.toFixed(2)} ms  p99 ${wrk.p99.toFixed(2)} ms  ` +
        `${Math.round(wrk.requests / cpu).toString().padStart(6)} req/CPU-s  ${(cpu / wrk.seconds).toFixed(2)} CPUs  RSS ${(rss / 2 ** 20).toFixed(1)} MB  ` +
        `errors ${wrk.errors + wrk.non2xx}  load ${loadAverage().toFixed(1)}` +
        (runtime !== undefined
          ? `\n${''.padEnd(24)} ${Math.round(runtime.heapAllocatedBytes / wrk.requests)} heap B/req  ${runtime.gc.count} GCs, ${runtime.gc.totalPauseMs.toFixed(1)} ms paused ` +
            `(max ${runtime.gc.maxPauseMs.toFixed(2)})  loop delay p50 ${runtime.loopDelayMs.p50.toFixed(2)} p99 ${runtime.loopDelayMs.p99.toFixed(2)} max ${runtime.loopDelayMs.max.toFixed(2)} ms`
          : ''),
    );
    return { wrk, cpuSeconds: cpu, rssBytes: rss, runtime, load: loadAverage() };
  } finally {
    await stop(p);
  }
}

// The run with the median throughput of a row's rounds.
function median(spec: RowSpec, samples: Sample[]): Row {
  const sorted = [...samples].sort((a, b) => a.wrk.rps - b.wrk.rps);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  const perCpu = samples.map((x) => x.wrk.requests / x.cpuSeconds).sort((a, b) => a - b);
  const envText = spec.runtimeStats ? `BENCH_RUNTIME_STATS=${statsPrefix(spec.key)} ` : '';
  return {
    name: spec.name,
    what: spec.what,
    proxyCommand: envText + ['taskset', '-c', spec.cpus, ...spec.command].join(' '),
    proxyCpus: spec.cpus,
    wrk: m.wrk,
    requestsPerCpuSecond: perCpu[Math.floor((perCpu.length - 1) / 2)],
    rssBytes: m.rssBytes,
    cpuCores: m.cpuSeconds / m.wrk.seconds,
    ...(m.runtime !== undefined ? { runtime: { ...m.runtime, requests: m.wrk.requests } } : {}),
    rounds: samples.map((x) => ({
      rps: x.wrk.rps,
      p99: x.wrk.p99,
      requestsPerCpuSecond: x.wrk.requests / x.cpuSeconds,
      cpuCores: x.cpuSeconds / x.wrk.seconds,
      rssBytes: x.rssBytes,
      load: x.load,
    })),
  };
}

// With `withMesh`, the edge also runs its mesh listener, and each round adds
// a run through it at the same connections and think time.
async function latencyAtHalf(edgePeak: number, backendPort: number, config: string, withMesh: boolean): Promise<LatencyAtRate> {
  const target = edgePeak / 2;
  const port = await freePort();
  const meshPort = withMesh ? await freePort() : undefined;
  const e = await start('edge', PROXY_CPUS, meshPort === undefined ? edge(ROOT, config, port) : meshEdge(ROOT, config, port, meshPort), port, HOST);
  try {
    if (meshPort !== undefined) await serving(e, meshPort, HOST);
    // Connections such that connections / (delay + response time) = target.
    let connections = Math.max(1, Math.round((target * (DELAY_MS + 0.3)) / 1000));
    const probe = await measure(port, LOAD_CPUS, connections, DELAY_MS, 3);
    connections = Math.max(1, Math.round((connections * target) / probe.rps));
    // Rounds alternate direct, through the edge (and through the mesh
    // listener); the median p99 of each is compared, so a busy spell on the
    // machine does not fall on one side.
    const fixedRate = (p: number) => runWrk({ port: p, host: HOST, connections, seconds: SECONDS, cpus: LOAD_CPUS, delayMs: DELAY_MS, scratchDir: dir });
    const directRuns: WrkResult[] = [];
    const edgeRuns: WrkResult[] = [];
    const meshRuns: WrkResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      directRuns.push(await fixedRate(backendPort));
      edgeRuns.push(await fixedRate(port));
      if (meshPort !== undefined) meshRuns.push(await fixedRate(meshPort));
    }
    const byP99 = (runs: WrkResult[]) => [...runs].sort((a, b) => a.p99 - b.p99)[Math.floor((runs.length - 1) / 2)];
    const direct = byP99(directRuns);
    const through = byP99(edgeRuns);
    const mesh = meshRuns.length > 0 ? byP99(meshRuns) : undefined;
    const r: LatencyAtRate = {
      targetRps: target,
      connections,
      delayMs: DELAY_MS,
      direct,
      edge: through,
      addedP50: through.p50 - direct.p50,
      addedP99: through.p99 - direct.p99,
      ...(mesh !== undefined ? { mesh, meshAddedP50: mesh.p50 - direct.p50, meshAddedP99: mesh.p99 - direct.p99 } : {}),
      rounds: directRuns.map((d, i) => ({
        directP99: d.p99,
        edgeP99: edgeRuns[i].p99,
        directRps: d.rps,
        edgeRps: edgeRuns[i].rps,
        ...(meshRuns[i] !== undefined ? { meshP99: meshRuns[i].p99, meshRps: meshRuns[i].rps } : {}),
        load: loadAverage(),
      })),
    };
    console.log(
      `at ~${Math.round(target)} req/s (${connections} conn, ${DELAY_MS} ms think time): direct p99 ${direct.p99.toFixed(3)} ms at ${Math.round(direct.rps)} req/s, ` +
        `edge p99 ${through.p99.toFixed(3)} ms at ${Math.round(through.rps)} req/s: added p99 ${r.addedP99.toFixed(3)} ms` +
        (mesh !== undefined ? `; mesh listener p99 ${mesh.p99.toFixed(3)} ms at ${Math.round(mesh.rps)} req/s: added p99 ${r.meshAddedP99!.toFixed(3)} ms` : '') +
        ` (rounds: ${r.rounds!.map((x) => [x.directP99, x.edgeP99, ...(x.meshP99 !== undefined ? [x.meshP99] : [])].map((v) => v.toFixed(2)).join('/')).join(', ')})`,
    );
    return r;
  } finally {
    await stop(e);
  }
}

// `argv` with this many files open allowed (prlimit; the bench runs as
// root), when the limit this process passes on is lower.
function withOpenFiles(argv: string[], files: number): string[] {
  return openFilesLimit() >= files ? argv : ['prlimit', `--nofile=${files}:${files}`, ...argv];
}

// The edge (one worker, as in its row) holding IDLE_CONNECTIONS keep-alive
// connections, each opened by bench/edge/idle-connections.ts (on the load
// CPU), given one request and then left idle: the edge's RSS after a warm-up
// with no connection open, and while they are held. Bounded: the helper takes at most 60 s to open them
// and is told to close them at once after the reading.
async function idleMemory(config: string): Promise<IdleMemory> {
  const files = IDLE_CONNECTIONS + 1_024;
  const port = await freePort();
  const e = await start('edge (idle connections)', PROXY_CPUS, withOpenFiles(edge(ROOT, config, port), files), port, HOST);
  const helperArgv = ['taskset', '-c', LOAD_CPUS, ...withOpenFiles([process.execPath, path.join(ROOT, 'dist', 'bench', 'edge', 'idle-connections.js')], files)];
  const helperEnv = { BENCH_IDLE_PORT: String(port), BENCH_IDLE_HOST: HOST, BENCH_IDLE_COUNT: String(IDLE_CONNECTIONS), BENCH_IDLE_HOLD_SECONDS: '90' };
  const helper = spawn(helperArgv[0], helperArgv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...helperEnv } });
  const helperExit = new Promise<void>((resolve) => helper.once('exit', () => resolve()));
  let err = '';
  helper.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    const pid = e.child.pid!;
    // Warmed up as in its row (code compiled, pools open) and with no
    // connection open, so that the difference is what the connections hold.
    await runWrk({ port, host: HOST, connections: CONNECTIONS, seconds: WARMUP_SECONDS, cpus: LOAD_CPUS, scratchDir: dir });
    await new Promise((r) => setTimeout(r, 1_000));
    const before = rssBytes(pid);
    const opened = await new Promise<{ open: number; failed: number }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`idle connections: not all open after 90 s: ${err}`)), 90_000);
      helper.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('"phase":"open"'));
        if (line === undefined) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { open: number; failed: number });
      });
      helper.once('exit', (code) => reject(new Error(`idle connections: the helper exited (${code}) before they were open: ${err}`)));
    });
    // Every connection idle for a moment before the reading.
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = rssBytes(pid);
    const sockets = socketCount(pid);
    const r: IdleMemory = {
      requested: IDLE_CONNECTIONS,
      open: opened.open,
      failed: opened.failed,
      edgeSockets: sockets,
      rssBeforeBytes: before,
      rssIdleBytes: idle,
      perConnectionBytes: opened.open > 0 ? (idle - before) / opened.open : 0,
      command: Object.entries(helperEnv).map(([k, v]) => `${k}=${v}`).concat(helperArgv).join(' '),
    };
    console.log(
      `edge RSS ${(before / 2 ** 20).toFixed(1)} MB warmed up, ${(idle / 2 ** 20).toFixed(1)} MB with ${opened.open} idle connections ` +
        `(${(r.perConnectionBytes / 1024).toFixed(1)} KB each; ${opened.failed} failed; the edge holds ${sockets} sockets)`,
    );
    return r;
  } finally {
    helper.stdin.end();
    const killer = setTimeout(() => helper.kill('SIGKILL'), 10_000);
    await helperExit;
    clearTimeout(killer);
    await stop(e);
  }
}

async function profileEdge(config: string): Promise<ProfileSummary> {
  const profDir = path.join(dir, 'cpu-prof');
  fs.mkdirSync(profDir);
  const port = await freePort();
  const t0 = Date.now();
  const e: Started = await start('edge (profiled)', PROXY_CPUS, edge(ROOT, config, port, 1, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]), port, HOST);
  let skipMs = 0;
  try {
    await runWrk({ port, host: HOST, connections: CONNECTIONS, seconds: WARMUP_SECONDS, cpus: LOAD_CPUS, scratchDir: dir });
    // Start-up and warm-up are left out of the summary.
    skipMs = Date.now() - t0;
    await runWrk({ port, host: HOST, connections: CONNECTIONS, seconds: SECONDS, cpus: LOAD_CPUS, scratchDir: dir });
  } finally {
    await stop(e);
  }
  const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('the profiled edge wrote no .cpuprofile');
  fs.copyFileSync(path.join(profDir, file), path.join(ROOT, 'bench', 'results', 'edge.cpuprofile'));
  return summarize(path.join(profDir, file), 25, skipMs);
}

// How to run this again: the BENCH_* settings given, then the options
// (quoted for a shell where they need it).
function commandLine(): string {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  const quoted = args.map((a) => (/^[-\w.,=/:]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return [...env, 'npm run bench', ...(quoted.length ? ['--', ...quoted] : [])].join(' ');
}

async function main(): Promise<void> {
  if (!/^[a-z0-9][-a-z0-9_.]*$/i.test(outName)) throw new Error(`--out: expected a file name without a directory, got '${outName}'`);
  const unknown = only?.filter((x) => !ONLY_NAMES.includes(x)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(', ')}; expected some of ${ONLY_NAMES.join(', ')}`);
  if (os.availableParallelism() < 2) throw new Error('the bench needs 2 cores: one for the proxy, one for wrk and the backend');
  const t0 = Date.now();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-'));
  const machine = describeMachine();
  console.log(`${machine.nproc} cores (${machine.cpuModel}), ${machine.memory}, kernel ${machine.kernel}, node ${machine.node}`);
  console.log(`wrk -t1 -c${CONNECTIONS}, ${SECONDS} s per row after ${WARMUP_SECONDS} s of warm-up, ${ROUNDS} rounds; proxy on CPU ${PROXY_CPUS}, wrk and backend on CPU ${LOAD_CPUS}`);
  const loadAtStart = loadAverage();
  if (loadAtStart > 1) console.log(`note: load average ${loadAtStart} at start: other work shares this machine; req/CPU-s is the steadier figure`);

  const backendPort = await freePort();
  const backendCommand = backendNginx(dir, backendPort);
  const backend = await start('backend (nginx)', LOAD_CPUS, backendCommand, backendPort, HOST);
  const config = edgeConfig(dir, backendPort);
  const rows: Row[] = [];
  let latency: LatencyAtRate | undefined;
  let memory: IdleMemory | undefined;
  let profileSummary: ProfileSummary | undefined;
  try {
    if (wants('direct')) {
      const r = await measure(backendPort);
      console.log(`${'direct to the backend'.padEnd(24)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`);
      rows.push({ name: 'direct to the backend', what: 'the limit: wrk and the backend alone on CPU 1', proxyCommand: '', proxyCpus: '', wrk: r });
    }
    const port = await freePort();
    const meshPort = await freePort();
    const f = fastify(ROOT, port, backendPort);
    const fl = floor(ROOT, port, backendPort);
    const tls = wants('edge-tls') || wants('nginx-tls') ? selfSignedCert(dir, HOST) : undefined;
    const tlsProbe: Probe = { https: true, path: KB_PATH };
    const preload = ['--require', PRELOAD];
    const specs: RowSpec[] = [
      {
        key: 'edge',
        name: EDGE_ROW,
        what: '`meridian edge --config`, static mode',
        command: edge(ROOT, config, port, 1, preload),
        cpus: PROXY_CPUS,
        runtimeStats: true,
      },
      {
        key: 'edge-node',
        name: 'edge, node:http + undici (1 worker)',
        what: 'the same edge with `--http1-engine node`: node:http on the listener and undici to the instance, the path before the fast one',
        command: [...edge(ROOT, config, port, 1, preload), '--http1-engine', 'node'],
        cpus: PROXY_CPUS,
        runtimeStats: true,
      },
      {
        key: 'mesh',
        name: MESH_ROW,
        what:
          'the same edge with `--mesh-http`, wrk calling its mesh listener: a workload calling http://bench.mesh, served by the local instance; ' +
          "the caller's address checked against the Region's instanceNetworks on every request",
        command: meshEdge(ROOT, config, port, meshPort),
        cpus: PROXY_CPUS,
        port: meshPort,
      },
      { key: 'nginx', name: NGINX_ROW, what: 'reverse proxy, keepalive 256 to the backend', command: proxyNginx(dir, port, backendPort), cpus: PROXY_CPUS },
      { key: 'haproxy', name: 'HAProxy (1 thread)', what: 'nbthread 1, http-reuse always', command: haproxy(dir, port, backendPort), cpus: PROXY_CPUS },
      { key: 'fastify', name: '@fastify/http-proxy', what: 'one process, undici to the backend', command: f.argv, cpus: PROXY_CPUS, env: f.env },
      {
        key: 'floor',
        name: 'node floor',
        what: 'node:http + undici dispatch and nothing else (bench/edge/floor-proxy.ts): the least this stack costs',
        command: fl.argv,
        cpus: PROXY_CPUS,
        env: fl.env,
      },
      ...(tls !== undefined
        ? [
            {
              key: 'edge-tls',
              name: EDGE_TLS_ROW,
              what: 'the edge with `--https` instead of `--http` (self-signed certificate); 1 KB body',
              command: tlsEdge(ROOT, config, port, tls, preload),
              cpus: PROXY_CPUS,
              probe: tlsProbe,
              runtimeStats: true,
            },
            {
              key: 'nginx-tls',
              name: NGINX_TLS_ROW,
              what: 'nginx terminating TLS (the same certificate), keepalive 256 to the backend; 1 KB body',
              command: proxyNginx(dir, port, backendPort, tls),
              cpus: PROXY_CPUS,
              probe: tlsProbe,
            },
          ]
        : []),
      {
        key: 'edge-2-workers',
        name: EDGE_2_WORKERS_ROW,
        what: "`--workers 2` on both CPUs, shared with wrk and the backend; req/CPU-s over the primary and both workers",
        command: edge(ROOT, config, port, 2),
        cpus: '0,1',
      },
    ].filter((x) => wants(x.key));
    // Rounds interleave the rows, so a busy spell on the machine does not
    // fall on one row only.
    const samples = new Map<string, Sample[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, spec] of specs.entries()) {
        // Each row takes warm-up plus the measured seconds: say where the run is.
        console.log(`round ${round} of ${ROUNDS}, row ${i + 1} of ${specs.length}: ${spec.name} (${WARMUP_SECONDS + SECONDS} s)`);
        const list = samples.get(spec.key) ?? [];
        list.push(await sample(spec, port));
        samples.set(spec.key, list);
      }
    }
    for (const spec of specs) rows.push(median(spec, samples.get(spec.key)!));
    const edgeRow = rows.find((r) => r.name === EDGE_ROW);
    if (wants('latency') && edgeRow !== undefined) latency = await latencyAtHalf(edgeRow.wrk.rps, backendPort, config, wants('mesh'));
    if (wants('memory')) memory = await idleMemory(config);
    if (profile) profileSummary = await profileEdge(config);
  } finally {
    await stop(backend);
    await stopAll();
  }

  const results: Results = {
    date: new Date().toISOString(),
    ...(note !== undefined ? { note } : {}),
    machine,
    method: {
      connections: CONNECTIONS,
      threads: 1,
      rounds: ROUNDS,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      proxyCpus: PROXY_CPUS,
      loadCpus: LOAD_CPUS,
      backend: `nginx, one worker, on CPU ${LOAD_CPUS}, answering a fixed ${'JSON'} body (1 KB on ${KB_PATH}, for the TLS rows): ${['taskset', '-c', LOAD_CPUS, ...backendCommand].join(' ')}`,
      command: commandLine(),
    },
    loadAverage: { start: loadAtStart, end: loadAverage() },
    rows,
    latency,
    idleMemory: memory,
    profile: profileSummary,
    durationSeconds: Math.round((Date.now() - t0) / 1000),
  };
  const out = writeResults(path.join(ROOT, 'bench', 'results'), outName, results);
  console.log(`results: ${out.join(', ')} (${results.durationSeconds} s)`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(async (err: Error) => {
  await stopAll();
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
