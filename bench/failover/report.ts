// The failover bench's results: bench/results/failover[-label].{json,md}.
import { writeResultPair } from '../bench-cli';
import type { FailoverOptions } from './options';
import type { FailureResult } from './failure-run';

export interface FailoverDoc {
  startedAt: string;
  command: string;
  machine: Record<string, string | number>;
  loadAverage: { start: number[]; end: number[] };
  options: FailoverOptions;
  lab: { prefix: string; setupMs: number; stackMs: number };
  failures: FailureResult[];
}

const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);

export function writeFailoverResults(doc: FailoverDoc): { json: string; md: string } {
  return writeResultPair(doc.options.out, 'failover', doc.options.label, doc, markdown(doc));
}

function markdown(doc: FailoverDoc): string {
  const lines = [
    `# Failover under load, ${doc.startedAt.slice(0, 10)}${doc.options.label ? ` (${doc.options.label})` : ''}`,
    '',
    `Command: \`${doc.command}\``,
    '',
    `Machine: ${Object.entries(doc.machine).map(([k, v]) => `${k} ${v}`).join(', ')}; load average (1, 5, 15 min) ${doc.loadAverage.start.join(', ')} at the start, ${doc.loadAverage.end.join(', ')} at the end (the machine is shared).`,
    '',
    `Where: the netns lab (${doc.lab.prefix}): three continent routers on BGP, regions fra, iad, sin with WireGuard between them, the real Meridian processes (etcd and the global controller in \`global\`; per region a zone controller, two echo instances, an ingress, an edge announcing 203.0.113.10). Lab up in ${doc.lab.setupMs} ms, Meridian steady ${doc.lab.stackMs} ms later.`,
    '',
    `Stream: the eu client GETs the service at the anycast address every ${doc.options.intervalMs} ms, each on a fresh connection (2 s timeout), one stream per failure, bounded to 150 s; it runs ${doc.options.holdS} s on after the reroute and after the return. The global controller and etcd stay down ${doc.options.outageS} s. Every request is a GET: the goal is zero failed.`,
    '',
    '| failure | service | requests | failed (goal 0) | reroute (to) | heal took | return |',
    '|---|---|---|---|---|---|---|',
    ...doc.failures.map((f) => `| ${f.what} | ${f.host} | ${f.requests} | ${f.failed === 0 ? '0' : `**${f.failed}**`} | ${f.rerouteMs === null ? 'nothing moves' : `${ms(f.rerouteMs)} (${f.movedTo})`} | ${ms(f.healMs)} | ${ms(f.returnMs)} (${f.returnMeans}) |`),
    '',
  ];
  for (const f of doc.failures) {
    if (!f.failed && !f.error && !f.notes.length && !f.staleAnswers) continue;
    lines.push(`**${f.name}**: ${[f.error ? `error: ${f.error.split('\n')[0]}` : '', f.staleAnswers ? `${f.staleAnswers} answers still from the old place before the move` : '', ...f.notes, f.failures.length ? `failed: ${f.failures.join('; ')}` : ''].filter(Boolean).join('. ')}`, '');
  }
  lines.push('Raw figures: the JSON file of the same name.', '');
  return lines.join('\n');
}
