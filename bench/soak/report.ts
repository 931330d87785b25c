// The soak's results: bench/results/soak[-label].{json,md}.
import { writeResultPair } from '../bench-cli';
import { summarize } from '../control-plane/stats';
import type { SoakOptions } from './options';
import type { ResourceSeries } from './resource-sampler';
import type { LoadInterval, LoadTotals } from './steady-load';
import type { ChurnEvent } from './instance-churn';
import { FD_MARGIN, RSS_SLOPE_MB, RSS_SLOPE_SHARE, WINDOW_S, type ProcessVerdict } from './verdict';

export interface SoakResult {
  startedAt: string;
  command: string;
  machine: Record<string, string | number>;
  loadAverage: { start: number[]; end: number[] };
  options: SoakOptions;
  soakSeconds: number;
  warmup: { seconds: number; sent: number; failed: number };
  requests: Omit<LoadTotals, 'latencyMs'> & { latencyMs: ReturnType<typeof summarize> };
  restarts: { count: number; failed: number; downMs: ReturnType<typeof summarize>; events: ChurnEvent[] };
  verdicts: ProcessVerdict[];
  flat: boolean;
  intervals: LoadInterval[];
  series: ResourceSeries[];
}

export const RULE = `flat: for every process that ran the whole soak, the least-squares slope of its RSS over the last ${WINDOW_S / 60} minutes (the second half of a shorter run) is below max(${RSS_SLOPE_MB} MB, ${RSS_SLOPE_SHARE * 100} % of its mean RSS) per 10 minutes, and its open file descriptors at the end are at most their median over the first window + ${FD_MARGIN}`;

export function writeSoakResults(r: SoakResult): { json: string; md: string } {
  return writeResultPair(r.options.out, 'soak', r.options.label, r, markdown(r));
}

function markdown(r: SoakResult): string {
  const q = r.requests;
  const lines = [
    `# Soak, ${r.startedAt.slice(0, 10)}${r.options.label ? ` (${r.options.label})` : ''}`,
    '',
    `Command: \`${r.command}\``,
    '',
    `Machine: ${Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join(', ')}; load average (1, 5, 15 min) ${r.loadAverage.start.join(', ')} at the start, ${r.loadAverage.end.join(', ')} at the end (the machine is shared).`,
    '',
    `What ran: \`meridian demo\` (etcd, the global controller, three zones with an edge, an ingress and two echo instances each) for ${Math.round(r.soakSeconds / 60 * 10) / 10} minutes; ` +
      `${r.options.rate} GET/s of echo.mesh spread over the three edges (undici keep-alive pools); one echo instance SIGKILLed every ${r.options.restartEverySec} s on average (random region, at most one down per region), started again and registered 2-8 s later; RSS and open fds of every process every ${r.options.sampleEverySec} s.`,
    '',
    `**Verdict: ${r.flat ? 'flat' : 'NOT flat'}** (${RULE}).`,
    '',
    `Requests (after a ${r.warmup.seconds} s warm-up of ${r.warmup.sent} requests, ${r.warmup.failed} failed): ${q.sent} sent, ${q.ok} answered 200, **${q.failed} failed**, ${q.notSent} not sent (too many outstanding); by region ${JSON.stringify(q.byRegion)}; latency (one answer in ten) p50 ${q.latencyMs.p50} ms, p99 ${q.latencyMs.p99} ms, max ${q.latencyMs.max} ms.`,
    '',
    `Instance restarts: ${r.restarts.count} (${r.restarts.failed} failed to come back); down for p50 ${r.restarts.downMs.p50} ms, max ${r.restarts.downMs.max} ms (kill to registered again).`,
    '',
    '| process | RSS start MB | RSS end MB | RSS max MB | RSS slope, last window, MB/10 min (limit) | fds baseline | fds end | fds max | flat? |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.verdicts.map((v) => `| ${v.name} | ${v.rssMb.start} | ${v.rssMb.end} | ${v.rssMb.max} | ${v.rssSlopeMbPer10Min} (${v.rssSlopeLimit}) | ${v.fds.baseline} | ${v.fds.end} | ${v.fds.max} | ${v.flat ? 'yes' : `**no**: ${v.why.join('; ')}`} |`),
    '',
  ];
  if (q.failures.length) {
    lines.push('First failures (seconds into the load, edge, error):', '', ...q.failures.slice(0, 15).map((f) => `- ${f.s} s, ${f.target}: ${f.error}`), '');
  }
  lines.push('Raw figures (every sample, every restart, requests per interval): the JSON file of the same name.', '');
  return lines.join('\n');
}
