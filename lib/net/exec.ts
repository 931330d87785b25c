// Runs one system command (ip, wg, birdc, ...), optionally inside a network
// namespace, bounded in time, and fails with the command line and its stderr
// so that a broken step says what it was.
import { execFile } from 'node:child_process';

export interface RunOptions {
  netns?: string;
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`command failed (${code}): ${argv.join(' ')}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  }
}

// `ip netns exec NS cmd args` when a namespace is given, else `cmd args`.
export function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args];
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = inNetns(opts.netns, cmd, args);
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv,
      { timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: opts.env ? { ...process.env, ...opts.env } : process.env },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
          const code = e.killed ? 'timeout' : (e.code ?? null);
          reject(new CommandError([file, ...argv], code, String(stdout), String(stderr)));
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
    // Closed either way: a command that reads stdin must not wait for more.
    // One that exits first makes this EPIPE, which its exit code tells better.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}
