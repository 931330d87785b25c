// Expected failures of the CLI. main prints their lines, each as `error: ...`,
// and exits with their code, without a stack trace: a user who typed a wrong
// name or whose server is down needs a sentence, not a backtrace.
export class CliError extends Error {
  readonly lines: string[];

  constructor(lines: string | string[], readonly exitCode = 1) {
    const all = Array.isArray(lines) ? lines : [lines];
    super(all.join('\n'));
    this.name = 'CliError';
    this.lines = all;
  }
}

// A command line that cannot be understood: exit code 2, like the shell's
// own builtins, so scripts can tell "you called me wrong" from "it failed".
export class UsageError extends CliError {
  constructor(message: string, readonly command?: string) {
    const hint = command ? `meridian ${command} --help` : 'meridian --help';
    super(`${message} (run '${hint}' for usage)`, 2);
    this.name = 'UsageError';
  }
}
