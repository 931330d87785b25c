// Runs the built `meridian` command (bin/meridian) as a user would, and
// collects what it printed. Asynchronous on purpose: the fake server the CLI
// talks to lives in the test's own process and must keep answering.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

import { repoRoot } from '../../test-support/repo-root';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
}

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliRun> {
  const root = repoRoot();
  // The caller's MERIDIAN_* settings must not leak into a test.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MERIDIAN_')) env[k] = v;
  Object.assign(env, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'meridian'), ...args], {
      cwd: opts.cwd ?? root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}
