// Command-line options of the control-plane bench.
import { parseArgs } from 'node:util';
import { numberOption } from '../bench-cli';

export const USAGE = `usage: npm run bench:control-plane -- [options]

  --regions N             zones (real zone controller processes) (default 10)
  --services N            Service resources; each has one instance per region (default 10000)
  --proxies-per-zone N    simulated proxies on each zone's discovery stream (default 2)
  --edge / --no-edge      run one real edge in the first region (default on)
  --check-interval D      health check interval of ordinary services (default 10s)
  --heartbeat D           zone heartbeat interval (default 1s)
  --flips N               single health changes timed end to end (default 60)
  --churn-rate N          instance changes a second during churn, all zones (default 1000)
  --churn-seconds N       length of the churn (default 60)
  --new-zone-runs N       new-zone syncs timed (default 3)
  --out DIR               where results go (default bench/results)
  --label TEXT            added to the result file names and the report
  --cpu-prof NAMES        comma-separated processes to profile (global-controller, zone-r00, edge-r00;
                          the new zone is zone-r<regions>, e.g. zone-r10)
  --heap-snapshot         with --cpu-prof: heap snapshots of those processes after the memory figures
  --keep                  keep the run directory (logs, state, profiles)
  --hold                  after the phases keep the processes up: each SIGUSR1 to the bench times
                          the new zone again (fresh zone processes load the current dist/), SIGINT ends
                          (the run's 15-minute limit still applies)
`;

export interface BenchOptions {
  regions: number;
  services: number;
  proxiesPerZone: number;
  edge: boolean;
  checkInterval: string;
  heartbeat: string;
  flips: number;
  churnRate: number;
  churnSeconds: number;
  newZoneRuns: number;
  out: string;
  label: string;
  cpuProf: string[];
  heapSnapshot: boolean;
  keep: boolean;
  hold: boolean;
}

export function parseOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      regions: { type: 'string', default: '10' },
      services: { type: 'string', default: '10000' },
      'proxies-per-zone': { type: 'string', default: '2' },
      edge: { type: 'boolean', default: true },
      'no-edge': { type: 'boolean', default: false },
      'check-interval': { type: 'string', default: '10s' },
      heartbeat: { type: 'string', default: '1s' },
      flips: { type: 'string', default: '60' },
      'churn-rate': { type: 'string', default: '1000' },
      'churn-seconds': { type: 'string', default: '60' },
      'new-zone-runs': { type: 'string', default: '3' },
      out: { type: 'string', default: 'bench/results' },
      label: { type: 'string', default: '' },
      'cpu-prof': { type: 'string', default: '' },
      'heap-snapshot': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      hold: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const int = (name: keyof typeof values, min: number, max: number) => numberOption(values[name] as string, name, min, max);
  return {
    regions: int('regions', 2, 40),
    services: int('services', 100, 100_000),
    proxiesPerZone: int('proxies-per-zone', 1, 20),
    edge: values.edge! && !values['no-edge'],
    checkInterval: values['check-interval']!,
    heartbeat: values.heartbeat!,
    flips: int('flips', 0, 1000),
    churnRate: int('churn-rate', 0, 20_000),
    churnSeconds: int('churn-seconds', 0, 600),
    newZoneRuns: int('new-zone-runs', 0, 20),
    out: values.out!,
    label: values.label!,
    cpuProf: values['cpu-prof']!.split(',').map((s) => s.trim()).filter(Boolean),
    heapSnapshot: values['heap-snapshot']!,
    keep: values.keep!,
    hold: values.hold!,
  };
}
