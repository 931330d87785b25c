// The results of a bench run as JSON (everything wrk reported) and as a
// Markdown table, with the ratios the edge is held to and the commands that
// produced them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Machine } from './machine';
import type { ProfileSummary } from './profile-summary';
import type { RuntimeStats } from './runtime-stats-preload';
import type { WrkResult } from './wrk';

export interface Row {
  name: string;
  what: string;
  proxyCommand: string;
  proxyCpus: string;
  // The round with the median throughput.
  wrk: WrkResult;
  // Median over the rounds; proxies only.
  requestsPerCpuSecond?: number;
  // Of the median round, at the end of its measured run: resident memory of
  // the proxy's processes (summed), and CPUs' worth of time they used
  // (CPU seconds / wall seconds).
  rssBytes?: number;
  cpuCores?: number;
  // The edge rows run with bench/edge/runtime-stats-preload.ts: what it saw
  // over the median round's measured run, and the requests wrk counted in it.
  runtime?: RuntimeStats & { requests: number };
  rounds?: { rps: number; p99: number; requestsPerCpuSecond: number; cpuCores: number; rssBytes: number; load: number }[];
}

// The edge holding many idle keep-alive connections (bench/edge/idle-connections.ts):
// each opened, given one request, then left idle.
export interface IdleMemory {
  requested: number;
  open: number;
  failed: number;
  // Sockets the edge process had open while they were held (the client
  // connections, its pool to the backend, its listeners).
  edgeSockets: number;
  rssBeforeBytes: number;
  rssIdleBytes: number;
  perConnectionBytes: number;
  command: string;
}

export interface LatencyAtRate {
  targetRps: number;
  connections: number;
  delayMs: number;
  direct: WrkResult;
  edge: WrkResult;
  addedP50: number;
  addedP99: number;
  // Through the same edge's mesh listener, when the mesh row was run.
  mesh?: WrkResult;
  meshAddedP50?: number;
  meshAddedP99?: number;
  // p99 in ms of each round, straight to the backend, through the edge and
  // through the mesh listener.
  rounds?: { directP99: number; edgeP99: number; meshP99?: number; directRps: number; edgeRps: number; meshRps?: number; load: number }[];
}

export interface Results {
  date: string;
  // Given with --note: how the machine was shared, why the run is short.
  note?: string;
  machine: Machine;
  method: {
    connections: number;
    threads: number;
    rounds: number;
    seconds: number;
    warmupSeconds: number;
    proxyCpus: string;
    loadCpus: string;
    backend: string;
    command: string;
  };
  loadAverage: { start: number; end: number };
  rows: Row[];
  latency?: LatencyAtRate;
  idleMemory?: IdleMemory;
  profile?: ProfileSummary;
  durationSeconds: number;
}

// The data-plane goals (docs/performance.md): requests per second relative to
// nginx and fastify on the same machine, the p99 the edge may add at half its
// peak and its p99 at the peak against nginx's, and what a second worker on a
// second core brings.
const GOALS = { nginx: 0.6, fastify: 1.3, addedP99Ms: 1, peakP99VsNginx: 2, twoWorkers: 1.7 };

// The rows bench/edge/run.ts names and the goals compare.
export const EDGE_ROW = 'edge (1 worker)';
export const NGINX_ROW = 'nginx (1 worker)';
export const MESH_ROW = 'mesh listener (1 worker)';
export const EDGE_2_WORKERS_ROW = 'edge (2 workers)';
export const EDGE_TLS_ROW = 'edge over TLS (1 worker)';
export const NGINX_TLS_ROW = 'nginx over TLS (1 worker)';

const f2 = (n: number) => n.toFixed(2);
const f3 = (n: number) => n.toFixed(3);
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

function find(rows: Row[], name: string): Row | undefined {
  return rows.find((r) => r.name === name);
}

function ratios(rows: Row[], a: string, b: string): { rps: number; cpu: number | undefined } | undefined {
  const x = find(rows, a);
  const y = find(rows, b);
  if (x === undefined || y === undefined || y.wrk.rps <= 0) return undefined;
  const cpu = x.requestsPerCpuSecond !== undefined && y.requestsPerCpuSecond !== undefined ? x.requestsPerCpuSecond / y.requestsPerCpuSecond : undefined;
  return { rps: x.wrk.rps / y.wrk.rps, cpu };
}

export function markdown(r: Results): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`# Edge vs peers — ${r.date.slice(0, 10)}`, '');
  if (r.note !== undefined) lines.push(`**Note:** ${r.note}`, '');
  const busiest = Math.max(r.loadAverage.start, r.loadAverage.end);
  if (busiest > 1) {
    lines.push(
      `Other work shared the machine during this run (load average up to ${busiest} on ${m.nproc} cores): the figures are indicative; ` +
        'req/CPU-s is the steadier one.',
      '',
    );
  }
  lines.push(
    `${m.nproc} cores (${m.cpuModel}), ${m.memory}, Linux ${m.kernel}, node ${m.node}; ${m.wrk.replace(/ Copyright.*$/, '')}, ${m.nginx}, ${m.haproxy.replace(/ - https.*$/, '')}, ${m.fastifyHttpProxy}.`,
    '',
  );
  lines.push(
    `wrk -t${r.method.threads} -c${r.method.connections}, ${r.method.seconds} s per row after ${r.method.warmupSeconds} s of warm-up. ` +
      `The proxy runs alone on CPU ${r.method.proxyCpus} (taskset); wrk and the backend share CPU ${r.method.loadCpus}. ` +
      `Backend: ${r.method.backend}.`,
    '',
  );
  lines.push(
    `Each proxy row is the median of ${r.method.rounds} rounds (the rows interleaved); req/CPU-s is requests served per second of CPU used by the proxy's processes ` +
      `(/proc), which holds up when other work shares the machine (load average ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end).`,
    '',
  );
  lines.push(
    '| row | req/s | p50 ms | p99 ms | req/CPU-s | CPUs used | RSS MB | vs nginx (req/s) | vs nginx (req/CPU-s) | errors | rounds (req/s) | what |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  );
  // The TLS rows are compared with nginx over TLS, the others with nginx.
  const ng = find(r.rows, NGINX_ROW);
  const ngTls = find(r.rows, NGINX_TLS_ROW);
  for (const x of r.rows) {
    const ref = x.name === EDGE_TLS_ROW || x.name === NGINX_TLS_ROW ? ngTls : ng;
    const vs = ref !== undefined && x.proxyCommand !== '' ? `${f2(x.wrk.rps / ref.wrk.rps)}x` : '';
    const vsCpu = ref?.requestsPerCpuSecond !== undefined && x.requestsPerCpuSecond !== undefined ? `${f2(x.requestsPerCpuSecond / ref.requestsPerCpuSecond)}x` : '';
    const perCpu = x.requestsPerCpuSecond !== undefined ? Math.round(x.requestsPerCpuSecond).toString() : '';
    const cores = x.cpuCores !== undefined ? f2(x.cpuCores) : '';
    const rss = x.rssBytes !== undefined ? mb(x.rssBytes) : '';
    const rounds = x.rounds?.map((q) => Math.round(q.rps)).join(', ') ?? '';
    lines.push(
      `| ${x.name} | ${Math.round(x.wrk.rps)} | ${f2(x.wrk.p50)} | ${f2(x.wrk.p99)} | ${perCpu} | ${cores} | ${rss} | ${vs} | ${vsCpu} | ${x.wrk.errors + x.wrk.non2xx} | ${rounds} | ${x.what} |`,
    );
  }
  lines.push('');
  lines.push(
    "RSS is the proxy's resident memory at the end of the median round's measured run, summed over its processes; CPUs used is their CPU time " +
      "over the run's wall time.",
    '',
  );
  if (ngTls !== undefined || find(r.rows, EDGE_TLS_ROW) !== undefined) {
    lines.push(
      `The two rows over TLS are HTTPS from wrk to the proxy, HTTP/1.1 keep-alive, a 1 KB response body (the backend's /1k), ` +
        'the same self-signed ECDSA P-256 certificate in both; their "vs nginx" columns compare with nginx over TLS.',
      '',
    );
  }
  const mesh = find(r.rows, MESH_ROW);
  if (mesh !== undefined) {
    lines.push(
      `The ${MESH_ROW} row is the edge of the row above started with \`--mesh-http\` as well, wrk calling that listener instead: ` +
        'what a workload of the region gets calling http://bench.mesh, served by the local instance. Over the edge row it adds, ' +
        "per request, the check of the caller's address against the Region's instanceNetworks (127.0.0.0/8 here) and the " +
        'TrafficPermission check of the network identity (no TrafficPermission names the service, so it is open).',
      '',
    );
  }
  const en = ratios(r.rows, EDGE_ROW, NGINX_ROW);
  const ef = ratios(r.rows, EDGE_ROW, '@fastify/http-proxy');
  const eh = ratios(r.rows, EDGE_ROW, 'HAProxy (1 thread)');
  const cpuText = (x: { cpu: number | undefined }) => (x.cpu !== undefined ? f2(x.cpu) : '');
  lines.push('| goal | measured (req/s) | measured (req/CPU-s) | met |', '|---|---:|---:|---|');
  if (en !== undefined) lines.push(`| edge / nginx throughput >= ${GOALS.nginx} | ${f2(en.rps)} | ${cpuText(en)} | ${en.rps >= GOALS.nginx ? 'yes' : 'no'} |`);
  if (ef !== undefined) lines.push(`| edge / @fastify/http-proxy throughput >= ${GOALS.fastify} | ${f2(ef.rps)} | ${cpuText(ef)} | ${ef.rps >= GOALS.fastify ? 'yes' : 'no'} |`);
  if (r.latency !== undefined) {
    lines.push(`| p99 added latency at half the edge's peak < ${GOALS.addedP99Ms} ms | ${f3(r.latency.addedP99)} ms | | ${r.latency.addedP99 < GOALS.addedP99Ms ? 'yes' : 'no'} |`);
  }
  const edgeRow = find(r.rows, EDGE_ROW);
  if (edgeRow !== undefined && ng !== undefined && ng.wrk.p99 > 0) {
    const p99Ratio = edgeRow.wrk.p99 / ng.wrk.p99;
    lines.push(
      `| edge p99 / nginx p99 at the ${r.method.connections}-connection peak <= ${GOALS.peakP99VsNginx} | ${f2(p99Ratio)} (${f2(edgeRow.wrk.p99)} / ${f2(ng.wrk.p99)} ms) | | ${p99Ratio <= GOALS.peakP99VsNginx ? 'yes' : 'no'} |`,
    );
  }
  const two = find(r.rows, EDGE_2_WORKERS_ROW);
  if (edgeRow !== undefined && two !== undefined) {
    const rpsRatio = two.wrk.rps / edgeRow.wrk.rps;
    const cpuRatio = two.requestsPerCpuSecond !== undefined && edgeRow.requestsPerCpuSecond !== undefined ? (2 * two.requestsPerCpuSecond) / edgeRow.requestsPerCpuSecond : undefined;
    lines.push(
      `| \`--workers 2\` on 2 cores / 1 worker >= ${GOALS.twoWorkers} (req/CPU-s: 2 x the 2-worker edge's, primary and workers, / 1 worker's; ` +
        `req/s: as measured, CPU ${r.method.loadCpus} shared with wrk and the backend) | ${f2(rpsRatio)} | ${cpuRatio !== undefined ? f2(cpuRatio) : ''} | ` +
        `${cpuRatio === undefined ? '' : cpuRatio >= GOALS.twoWorkers ? 'yes' : 'no'} |`,
    );
  }
  const tls = ratios(r.rows, EDGE_TLS_ROW, NGINX_TLS_ROW);
  if (tls !== undefined) lines.push(`| (edge / nginx over TLS, 1 KB body, reported) | ${f2(tls.rps)} | ${cpuText(tls)} | |`);
  if (eh !== undefined) lines.push(`| (edge / HAProxy, for reference) | ${f2(eh.rps)} | ${cpuText(eh)} | |`);
  const me = ratios(r.rows, MESH_ROW, EDGE_ROW);
  if (me !== undefined) lines.push(`| (mesh listener / edge, for reference) | ${f2(me.rps)} | ${cpuText(me)} | |`);
  if (r.latency?.meshAddedP99 !== undefined) {
    const added = r.latency.meshAddedP99;
    lines.push(`| (mesh listener: p99 added at half the edge's peak, against the same ${GOALS.addedP99Ms} ms) | ${f3(added)} ms | | ${added < GOALS.addedP99Ms ? 'yes' : 'no'} |`);
  }
  lines.push('');
  if (r.latency !== undefined) {
    const l = r.latency;
    lines.push(
      `## Latency at half the edge's peak`,
      '',
      `Target ${Math.round(l.targetRps)} req/s: ${l.connections} connections, each waiting ${l.delayMs} ms after a response before its next request ` +
        `(wrk's Lua \`delay()\`; closed loop, so a slow response delays the next request rather than queueing it: coordinated omission is not corrected).`,
      '',
      '| | req/s | p50 ms | p90 ms | p99 ms |',
      '|---|---:|---:|---:|---:|',
      `| direct to the backend | ${Math.round(l.direct.rps)} | ${f3(l.direct.p50)} | ${f3(l.direct.p90)} | ${f3(l.direct.p99)} |`,
      `| through the edge | ${Math.round(l.edge.rps)} | ${f3(l.edge.p50)} | ${f3(l.edge.p90)} | ${f3(l.edge.p99)} |`,
      `| added by the edge | | ${f3(l.addedP50)} | ${f3(l.edge.p90 - l.direct.p90)} | ${f3(l.addedP99)} |`,
    );
    if (l.mesh !== undefined) {
      lines.push(
        `| through the mesh listener | ${Math.round(l.mesh.rps)} | ${f3(l.mesh.p50)} | ${f3(l.mesh.p90)} | ${f3(l.mesh.p99)} |`,
        `| added by the mesh listener | | ${f3(l.meshAddedP50!)} | ${f3(l.mesh.p90 - l.direct.p90)} | ${f3(l.meshAddedP99!)} |`,
      );
    }
    const sides = l.mesh !== undefined ? 'direct/edge/mesh listener' : 'direct/edge';
    const round = (x: NonNullable<LatencyAtRate['rounds']>[number]) => [x.directP99, x.edgeP99, ...(x.meshP99 !== undefined ? [x.meshP99] : [])].map(f2).join('/');
    lines.push('', `Rounds, ${sides} p99 ms (the median round of each is above): ${l.rounds?.map(round).join(', ') ?? ''}.`, '');
  }
  lines.push(...runtimeSection(r));
  if (r.profile !== undefined) {
    const p = r.profile;
    lines.push(`## Where the edge's CPU goes at its peak (node --cpu-prof, ${p.busyMs} ms busy, ${p.idleMs} ms idle)`, '');
    lines.push('| area | self time |', '|---|---:|');
    for (const a of p.areas) lines.push(`| ${a.name} | ${a.percent.toFixed(1)}% |`);
    lines.push('', '| function (top self time) | self time |', '|---|---:|');
    for (const fn of p.functions) lines.push(`| \`${fn.name}\` | ${fn.percent.toFixed(1)}% |`);
    lines.push('');
  }
  lines.push('## Commands', '', '```', `${r.method.command}`, '');
  for (const x of r.rows) lines.push(`# ${x.name}`, ...(x.proxyCommand ? [x.proxyCommand] : []), x.wrk.command, '');
  if (r.idleMemory !== undefined) lines.push('# idle connections to the edge (the edge started as in its row, without the preload)', r.idleMemory.command, '');
  if (r.latency !== undefined) {
    const l = r.latency;
    lines.push('# fixed rate: through the edge, ' + (l.mesh ? 'through the mesh listener, ' : '') + 'direct', l.edge.command, ...(l.mesh ? [l.mesh.command] : []), l.direct.command, '');
  }
  lines.push('```', '', `The run took ${r.durationSeconds} s.`, '');
  return lines.join('\n');
}

// Memory, allocations, GC and event-loop delay of the edge rows at their peak,
// and the edge's memory holding idle connections.
function runtimeSection(r: Results): string[] {
  const rows = r.rows.filter((x) => x.runtime !== undefined || (x.name === EDGE_ROW && x.rssBytes !== undefined));
  if (rows.length === 0 && r.idleMemory === undefined) return [];
  const lines = ['## The edge at its peak: memory, allocations, GC, event loop', ''];
  if (rows.length > 0) {
    lines.push(
      `Over the median round's measured run of each row (${r.method.connections} connections, as fast as the edge answers), from ` +
        '`bench/edge/runtime-stats-preload.ts` loaded with `node --require` (bench/edge/README.md says how each figure is made).',
      '',
      `| | ${rows.map((x) => x.name).join(' | ')} |`,
      `|---|${rows.map(() => '---:').join('|')}|`,
    );
    const cell = (fn: (x: Row) => string) => rows.map(fn).join(' | ');
    const rt = (fn: (s: NonNullable<Row['runtime']>) => string) => cell((x) => (x.runtime !== undefined ? fn(x.runtime) : ''));
    const per10k = (s: NonNullable<Row['runtime']>, n: number) => (s.requests > 0 ? (n * 10_000) / s.requests : 0);
    lines.push(
      `| requests in the window | ${rt((s) => String(s.requests))} |`,
      `| JS heap bytes allocated per request | ${rt((s) => (s.requests > 0 ? Math.round(s.heapAllocatedBytes / s.requests).toString() : ''))} |`,
      `| GCs per 10k requests | ${rt((s) => f2(per10k(s, s.gc.count)))} |`,
      `| GC pause per 10k requests, ms | ${rt((s) => f2(per10k(s, s.gc.totalPauseMs)))} |`,
      `| longest GC pause, ms | ${rt((s) => f2(s.gc.maxPauseMs))} |`,
      `| GCs by kind (count, pause ms) | ${rt((s) => Object.entries(s.gc.byType).map(([k, v]) => `${k} ${v.count}, ${v.totalPauseMs.toFixed(1)}`).join('; '))} |`,
      `| event-loop delay p50 / p99 / max, ms | ${rt((s) => `${f2(s.loopDelayMs.p50)} / ${f2(s.loopDelayMs.p99)} / ${f2(s.loopDelayMs.max)}`)} |`,
      `| RSS at the end of the run, MB | ${cell((x) => (x.rssBytes !== undefined ? mb(x.rssBytes) : ''))} |`,
      '',
    );
  }
  const m = r.idleMemory;
  if (m !== undefined) {
    lines.push(
      `**Idle connections:** the edge (one worker, as in its row) had ${mb(m.rssBeforeBytes)} MB resident after a ${r.method.warmupSeconds} s warm-up with wrk, ` +
        `no connection open; with ${m.open} of ${m.requested} ` +
        `keep-alive connections open and idle, each after one request (GET /, response read whole), ${mb(m.rssIdleBytes)} MB ` +
        `(${(m.perConnectionBytes / 1024).toFixed(1)} KB per connection; the edge held ${m.edgeSockets} sockets${m.failed > 0 ? `; ${m.failed} connections failed` : ''}).`,
      '',
    );
  }
  return lines;
}

// Writes `<name>.json` and `<name>.md` in `dir`.
export function writeResults(dir: string, name: string, r: Results): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${name}.json`);
  const md = path.join(dir, `${name}.md`);
  fs.writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  fs.writeFileSync(md, markdown(r));
  return [path.relative(process.cwd(), json), path.relative(process.cwd(), md)];
}
