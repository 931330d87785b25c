// Runs a program on the host and captures its output. Bootstrap never goes
// through a shell: arguments are passed as they are, so nothing is quoted or
// expanded by accident.
import { spawnSync } from 'node:child_process';

import { CliError } from '../errors';

export interface CommandResult {
  code: number;
  stdout: string;
}

/** Runs argv; a failure to start is reported as code 127. */
export function tryCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): CommandResult {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) return { code: 127, stdout: '' };
  return { code: result.status ?? 1, stdout: result.stdout };
}

/** Runs argv and fails with its last line of error output unless it succeeds. */
export function runCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw new CliError(`${argv.join(' ')}: ${(result.error as NodeJS.ErrnoException).code ?? result.error.message}`);
  if (result.status !== 0) {
    const last = result.stderr.trim().split('\n').pop() || `exit status ${result.status}`;
    throw new CliError(`${argv.join(' ')} failed: ${last}`);
  }
  return result.stdout;
}
