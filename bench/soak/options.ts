// Command-line options of the soak bench.
import { parseArgs } from 'node:util';
import { numberOption } from '../bench-cli';

export const USAGE = `usage: npm run bench:soak -- [options]

  --minutes N          length of the soak (default 30; 1 for a smoke run)
  --rate N             requests a second over all edges (default 200)
  --restart-every S    mean seconds between two instance kills (default 20)
  --sample-every S     seconds between two samples of RSS and open fds (default 10)
  --port-offset N      the demo's --port-offset (default 4700)
  --out DIR            where results go (default bench/results)
  --label TEXT         added to the result file names and the report
`;

export interface SoakOptions {
  minutes: number;
  rate: number;
  restartEverySec: number;
  sampleEverySec: number;
  portOffset: number;
  out: string;
  label: string;
}

export function parseSoakOptions(argv: string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '200' },
      'restart-every': { type: 'string', default: '20' },
      'sample-every': { type: 'string', default: '10' },
      'port-offset': { type: 'string', default: '4700' },
      out: { type: 'string', default: 'bench/results' },
      label: { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const num = (name: 'minutes' | 'rate' | 'restart-every' | 'sample-every' | 'port-offset', min: number, max: number) => numberOption(values[name], name, min, max, false);
  return {
    minutes: num('minutes', 0.5, 240),
    rate: num('rate', 1, 2000),
    restartEverySec: num('restart-every', 2, 3600),
    sampleEverySec: num('sample-every', 1, 600),
    portOffset: numberOption(values['port-offset'], 'port-offset', 0, 50_000),
    out: values.out!,
    label: values.label!,
  };
}
