// The results: the figures against the goals, as JSON and as a Markdown page
// with the machine and the exact command.
import * as os from 'node:os';
import { writeResultPair } from '../bench-cli';
import { execFileSync } from 'node:child_process';
import type { BenchContext } from './bench-context';
import type { Summary } from './stats';

export interface Figure {
  figure: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

export function machine(): Record<string, string | number> {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  let etcd = 'unknown';
  try {
    etcd = execFileSync('etcd', ['--version']).toString().split('\n')[0]!.replace('etcd Version: ', '');
  } catch {
    // not installed
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    etcd,
    // Other work on the machine skews every figure: the 1-minute load average at the end.
    loadAverageAtEnd: os.loadavg()[0]!.toFixed(1),
  };
}

const fmt = (s: Summary | undefined) => (s && s.n ? `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms (n=${s.n})` : 'not measured');

export function figures(ctx: BenchContext): Figure[] {
  const r = ctx.results as Record<string, any>;
  const out: Figure[] = [];
  const nz = r.newZone;
  out.push({
    figure: 'New zone: `zone-controller` spawned -> a proxy on it holds the full state',
    goal: '< 2 s',
    measured: nz?.ok ? `median ${nz.realFullViewMs.p50} ms, max ${nz.realFullViewMs.max} ms over ${nz.real.length} runs (raw Hello -> Snapshot ${nz.rawSnapshotMs.p50} ms, -> RegionsView ${nz.rawRegionsViewMs.p50} ms)` : `failed: ${nz?.error ?? 'not run'}`,
    met: nz?.ok ? nz.allReachedFullView && nz.realFullViewMs.max < 2000 : false,
  });
  const p = r.propagation;
  out.push({
    figure: 'One instance health change -> every proxy in every zone',
    goal: 'p99 < 250 ms',
    measured: p?.ok ? `${fmt(p.everyProxyMs)}${p.neverReached ? `, ${p.neverReached} never reached` : ''}` : `failed: ${p?.error ?? 'not run'}`,
    met: p?.ok ? p.neverReached === 0 && p.everyProxyMs.p99 < 250 : false,
  });
  const c = r.churn;
  if (c?.ok) {
    const windows = c.lagByWindow as { maxLagMs: number | null; maxEdgeLagMs: number | null }[];
    // Flat: the worst lag of the last 20 s is at most twice that of the first 20 s (or 500 ms).
    const flat = (lag: (w: (typeof windows)[number]) => number | null) =>
      Math.max(...windows.slice(-2).map((w) => lag(w) ?? Infinity)) <= 2 * Math.max(...windows.slice(0, 2).map((w) => lag(w) ?? Infinity), 250);
    const lagFlat = flat((w) => w.maxLagMs) && (!c.edgeLagMs || (flat((w) => w.maxEdgeLagMs) && c.edgeMarkersMissed === 0));
    const growth = Object.entries(c.memory as Record<string, { startMb: number; afterMb: number; maxMb: number }>)
      .filter(([n]) => !n.startsWith('bench-') && n !== 'etcd')
      .map(([n, m]) => `${n} ${m.startMb}->${m.maxMb}->${m.afterMb} MB`);
    const memFlat = Object.entries(c.memory as Record<string, { startMb: number; afterMb: number }>)
      .filter(([n]) => !n.startsWith('bench-') && n !== 'etcd')
      .every(([, m]) => m.afterMb <= m.startMb * 1.25 + 50);
    out.push({
      figure: `Churn ${c.offeredPerSecond}/s for ${ctx.opts.churnSeconds} s: lag (API request -> every proxy)`,
      goal: 'bounded; no growth over the minute',
      measured: `achieved ${c.achievedPerSecond}/s (${c.skippedZoneApiSaturated} skipped); simulated proxies: ${fmt(c.markerLagMs)}${c.markersMissed ? `, ${c.markersMissed} markers missed` : ''}, worst per 10 s ${windows.map((w) => w.maxLagMs ?? '-').join(', ')} ms` +
        (c.edgeLagMs ? `; the edge: ${fmt(c.edgeLagMs)}${c.edgeMarkersMissed ? `, ${c.edgeMarkersMissed} missed` : ''}, worst per 10 s ${windows.map((w) => w.maxEdgeLagMs ?? '-').join(', ')} ms` : ''),
      met: lagFlat && c.markersMissed === 0 && c.skippedZoneApiSaturated === 0,
    });
    out.push({
      figure: 'Churn: memory (RSS start -> max -> after recovery)',
      goal: 'no unbounded growth',
      measured: `${growth.join('; ')}; full state again ${c.recoveredToFullState ? `${c.recoverySeconds} s after the churn` : 'NOT within 180 s'}`,
      met: memFlat && c.recoveredToFullState,
    });
  } else {
    out.push({ figure: 'Churn', goal: 'no unbounded growth', measured: `failed: ${c?.error ?? 'not run'}`, met: false });
  }
  const m = r.memory;
  out.push({ figure: 'Global controller RSS at full size', goal: '(no goal; reported)', measured: m?.ok ? `${m.globalControllerMb} MB` : 'not measured', met: null });
  out.push({
    figure: 'Zone controller RSS at full size',
    goal: '(no goal; reported)',
    measured: m?.ok ? `median ${m.zoneControllerMb.median} MB (min ${m.zoneControllerMb.min}, max ${m.zoneControllerMb.max})` : 'not measured',
    met: null,
  });
  out.push({
    figure: 'Edge RSS at full size',
    goal: '< 300 MB',
    measured: m?.ok && m.edgeMb !== undefined ? `${m.edgeMb} MB` : 'not measured',
    met: m?.ok && m.edgeMb !== undefined ? m.edgeMb < 300 : null,
  });
  return out;
}

export function writeResults(ctx: BenchContext, command: string, startedAt: Date): { json: string; md: string } {
  const table = figures(ctx);
  const doc = { startedAt: startedAt.toISOString(), command, machine: { ...machine(), loadAverageAtStart: ctx.loadAtStart }, options: ctx.opts, sizes: ctx.sizes, figures: table, results: ctx.results };
  return writeResultPair(ctx.opts.out, 'control-plane', ctx.opts.label, doc, markdown(ctx, doc, table));
}

function markdown(ctx: BenchContext, doc: { startedAt: string; command: string; machine: Record<string, unknown> }, table: Figure[]): string {
  const r = ctx.results as Record<string, any>;
  const mark = (met: boolean | null) => (met === null ? '-' : met ? 'yes' : '**no**');
  const lines = [
    `# Control-plane bench, ${doc.startedAt.slice(0, 10)}${ctx.opts.label ? ` (${ctx.opts.label})` : ''}`,
    '',
    `Command: \`${doc.command}\``,
    '',
    `Machine: ${Object.entries(doc.machine).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    `Size: ${ctx.sizes.regions} regions (real zone controller processes), ${ctx.sizes.services} services, ${ctx.sizes.regions * ctx.sizes.services} instances (one per service per region), ` +
      `${ctx.opts.proxiesPerZone} simulated proxies per zone${ctx.opts.edge ? ' and one real edge in the first region' : ''}; health checks TCP every ${ctx.opts.checkInterval} (probe services every 1 s); heartbeat ${ctx.opts.heartbeat}.`,
    '',
    '| figure | goal | measured | met? |',
    '|---|---|---|---|',
    ...table.map((f) => `| ${f.figure} | ${f.goal} | ${f.measured} | ${mark(f.met)} |`),
    '',
    '## Phases',
    '',
    '| phase | ok | seconds | notes |',
    '|---|---|---|---|',
    ...Object.entries(r).map(([name, p]) => `| ${name} | ${p.ok ? 'yes' : '**no**'} | ${p.seconds} | ${p.ok ? phaseNote(name, p) : String(p.error).split('\n')[0]} |`),
    '',
  ];
  if (r.memory?.ok) {
    lines.push('## Memory and idle CPU at full size', '', '| process | RSS MB | idle CPU % of a core |', '|---|---|---|');
    for (const [n, m] of Object.entries(r.memory.processes as Record<string, { rssMb: number; idleCpuPercent: number }>)) lines.push(`| ${n} | ${m.rssMb} | ${m.idleCpuPercent} |`);
    lines.push('', `etcd database: ${r.memory.etcdDbMb} MB`, '');
  }
  if (r.churn?.ok) {
    lines.push('## Churn, per process', '', '| process | RSS start | RSS end of churn | RSS max | RSS after recovery | mean CPU % during churn |', '|---|---|---|---|---|---|');
    for (const [n, m] of Object.entries(r.churn.memory as Record<string, { startMb: number; endMb: number; maxMb: number; afterMb: number; meanCpuPercent: number }>)) {
      lines.push(`| ${n} | ${m.startMb} | ${m.endMb} | ${m.maxMb} | ${m.afterMb} | ${m.meanCpuPercent} |`);
    }
    lines.push('', `API latency during churn: p50 ${r.churn.apiLatencyMs.p50} ms, p99 ${r.churn.apiLatencyMs.p99} ms. Markers: deregistrations ${fmt(r.churn.markerDeregisterLagMs)}; registrations ${fmt(r.churn.markerRegisterLagMs)}. etcd database ${r.churn.etcdDbMb.before} -> ${r.churn.etcdDbMb.after} MB.`, '');
    if (r.churn.cpu) lines.push(`CPU during the churn (% of one core, ${os.availableParallelism()} cores): the machine ${r.churn.cpu.machine}, the bench's processes ${r.churn.cpu.bench}, other work on the machine ${r.churn.cpu.others}.`, '');
  }
  if (r.propagation?.ok) {
    const p = r.propagation;
    lines.push('## Propagation breakdown', '', `Method: ${p.method}.`, '', `- every proxy: ${fmt(p.everyProxyMs)}`, `- proxies of the zone itself: ${fmt(p.localProxiesMs)}`, `- proxies of other zones: ${fmt(p.remoteProxiesMs)}`, `- the real edge: ${fmt(p.edgeMs)}`, `- detection (listener flip -> zone records it; not part of the figure): ${fmt(p.detectionMs)}`, '');
  }
  lines.push('Raw figures: the JSON file of the same name.', '');
  return lines.join('\n');
}

function phaseNote(name: string, p: Record<string, any>): string {
  switch (name) {
    case 'resources':
      return `${p.documents} documents in ${p.applies} applies, ${p.documentsPerSecond}/s, apply p50 ${p.applyMs.p50} ms`;
    case 'zones':
      return `federated after ${p.zonesFederatedSeconds} s, proxies have every service after ${p.proxiesHaveServicesSeconds} s`;
    case 'register':
      return `${p.instances} in ${p.registeredSeconds} s (${p.registrationsPerSecond}/s, ${p.failed} failed); full state after ${p.fullStateSeconds ?? 'never'} s`;
    default:
      return '';
  }
}
