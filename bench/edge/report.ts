// The results of a bench run as JSON (everything wrk reported) and as a
// Markdown table, with the ratios the edge is held to and the commands that
// produced them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Machine } from './machine';
import type { ProfileSummary } from './profile-summary';
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
  rounds?: { rps: number; p99: number; requestsPerCpuSecond: number; load: number }[];
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
  profile?: ProfileSummary;
  durationSeconds: number;
}

// The data-plane goals (docs/performance.md): requests per second relative to
// nginx and fastify on the same machine, and the p99 the edge may add.
const GOALS = { nginx: 0.6, fastify: 1.3, addedP99Ms: 1 };

// The row of the edge's mesh listener (bench/edge/run.ts names it).
export const MESH_ROW = 'mesh listener (1 worker)';

const f2 = (n: number) => n.toFixed(2);
const f3 = (n: number) => n.toFixed(3);

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
  lines.push('| row | req/s | p50 ms | p99 ms | req/CPU-s | vs nginx (req/s) | vs nginx (req/CPU-s) | errors | rounds (req/s) | what |', '|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
  const ng = find(r.rows, 'nginx (1 worker)');
  for (const x of r.rows) {
    const vs = ng !== undefined && x.proxyCommand !== '' ? `${f2(x.wrk.rps / ng.wrk.rps)}x` : '';
    const vsCpu = ng?.requestsPerCpuSecond !== undefined && x.requestsPerCpuSecond !== undefined ? `${f2(x.requestsPerCpuSecond / ng.requestsPerCpuSecond)}x` : '';
    const perCpu = x.requestsPerCpuSecond !== undefined ? Math.round(x.requestsPerCpuSecond).toString() : '';
    const rounds = x.rounds?.map((q) => Math.round(q.rps)).join(', ') ?? '';
    lines.push(`| ${x.name} | ${Math.round(x.wrk.rps)} | ${f2(x.wrk.p50)} | ${f2(x.wrk.p99)} | ${perCpu} | ${vs} | ${vsCpu} | ${x.wrk.errors + x.wrk.non2xx} | ${rounds} | ${x.what} |`);
  }
  lines.push('');
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
  const en = ratios(r.rows, 'edge (1 worker)', 'nginx (1 worker)');
  const ef = ratios(r.rows, 'edge (1 worker)', '@fastify/http-proxy');
  const eh = ratios(r.rows, 'edge (1 worker)', 'HAProxy (1 thread)');
  const cpuText = (x: { cpu: number | undefined }) => (x.cpu !== undefined ? f2(x.cpu) : '');
  lines.push('| goal | measured (req/s) | measured (req/CPU-s) | met |', '|---|---:|---:|---|');
  if (en !== undefined) lines.push(`| edge / nginx throughput >= ${GOALS.nginx} | ${f2(en.rps)} | ${cpuText(en)} | ${en.rps >= GOALS.nginx ? 'yes' : 'no'} |`);
  if (ef !== undefined) lines.push(`| edge / @fastify/http-proxy throughput >= ${GOALS.fastify} | ${f2(ef.rps)} | ${cpuText(ef)} | ${ef.rps >= GOALS.fastify ? 'yes' : 'no'} |`);
  if (r.latency !== undefined) {
    lines.push(`| p99 added latency at half the edge's peak < ${GOALS.addedP99Ms} ms | ${f3(r.latency.addedP99)} ms | | ${r.latency.addedP99 < GOALS.addedP99Ms ? 'yes' : 'no'} |`);
  }
  if (eh !== undefined) lines.push(`| (edge / HAProxy, for reference) | ${f2(eh.rps)} | ${cpuText(eh)} | |`);
  const me = ratios(r.rows, MESH_ROW, 'edge (1 worker)');
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
  if (r.latency !== undefined) {
    const l = r.latency;
    lines.push('# fixed rate: through the edge, ' + (l.mesh ? 'through the mesh listener, ' : '') + 'direct', l.edge.command, ...(l.mesh ? [l.mesh.command] : []), l.direct.command, '');
  }
  lines.push('```', '', `The run took ${r.durationSeconds} s.`, '');
  return lines.join('\n');
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
