// Strict argument parsing for every command, on node:util parseArgs, with its
// errors turned into one short UsageError line.
import { parseArgs } from 'node:util';

import { UsageError } from './errors';

export type OptionSpec = Record<string, {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseCommandArgs(command: string, argv: string[], options: OptionSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals, help: values.help === true };
  } catch (err) {
    throw new UsageError(parseErrorMessage(err), command);
  }
}

// Node's messages carry long advice ("To specify a positional argument ...");
// the first sentence is what the user needs.
function parseErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('. ')[0];
  return first.charAt(0).toLowerCase() + first.slice(1);
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringListOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}
