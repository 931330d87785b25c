// What the benches' command lines share: a number option checked against its
// range, the parse-or-usage step, the results pair (JSON and Markdown) under
// a stable name, and the exit code of main.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function numberOption(value: string | undefined, name: string, min: number, max: number, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new Error(`--${name}: ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

// The options, undefined for --help (usage printed), or an exit code after
// bad input (the reason and the usage printed).
export function parseOrUsage<T>(parse: (argv: string[]) => T | undefined, usage: string, argv = process.argv.slice(2)): T | number {
  try {
    const opts = parse(argv);
    if (opts !== undefined) return opts;
    process.stdout.write(usage);
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
}

// `npm run <script> -- args` as it was typed, for the results.
export function commandLine(script: string, argv = process.argv.slice(2)): string {
  return `npm run ${script}${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
}

export const loadAverage = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);

// <out>/<name>[-label].json and .md; the date is inside, so a new run
// replaces the committed results instead of piling up next to them.
export function writeResultPair(out: string, name: string, label: string, doc: unknown, markdown: string): { json: string; md: string } {
  fs.mkdirSync(out, { recursive: true });
  const base = path.join(out, `${name}${label ? `-${label}` : ''}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(doc, null, 1) + '\n');
  fs.writeFileSync(`${base}.md`, markdown);
  return { json: `${base}.json`, md: `${base}.md` };
}

export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
