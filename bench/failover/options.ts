// Command-line options of the failover bench.
import { parseArgs } from 'node:util';
import { numberOption } from '../bench-cli';

export const FAILURES = ['region-instances', 'edge-drain', 'tunnel-break', 'global-controller', 'etcd-restart'] as const;
export type FailureName = (typeof FAILURES)[number];

export const USAGE = `usage: npm run bench:failover -- [options]     (as root: it builds the netns lab)

  --interval-ms N    one GET every N ms from the eu client, each on a fresh connection (default 20)
  --hold-s N         seconds the stream runs on after a reroute and after a return (default 3)
  --outage-s N       seconds the global controller and etcd stay down (default 5)
  --only NAMES       comma-separated failures to run (default all: ${FAILURES.join(', ')})
  --out DIR          where results go (default bench/results)
  --label TEXT       added to the result file names and the report
`;

export interface FailoverOptions {
  intervalMs: number;
  holdS: number;
  outageS: number;
  only: FailureName[];
  out: string;
  label: string;
}

export function parseFailoverOptions(argv: string[]): FailoverOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      'interval-ms': { type: 'string', default: '20' },
      'hold-s': { type: 'string', default: '3' },
      'outage-s': { type: 'string', default: '5' },
      only: { type: 'string', default: FAILURES.join(',') },
      out: { type: 'string', default: 'bench/results' },
      label: { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const int = (name: 'interval-ms' | 'hold-s' | 'outage-s', min: number, max: number) => numberOption(values[name], name, min, max);
  const only = values.only!.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((n) => !(FAILURES as readonly string[]).includes(n));
  if (unknown.length || !only.length) throw new Error(`--only: ${unknown.join(', ') || 'empty'}; choose from ${FAILURES.join(', ')}`);
  return {
    intervalMs: int('interval-ms', 5, 1000),
    holdS: int('hold-s', 1, 60),
    outageS: int('outage-s', 1, 60),
    only: only as FailureName[],
    out: values.out!,
    label: values.label!,
  };
}
