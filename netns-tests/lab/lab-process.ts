// A long-running process of the lab (BIRD, a test server, tcpdump, a probe)
// inside a namespace: its output kept (bounded) and logged to a file, lines
// to wait for, and a stop that always ends in SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

const KEEP_CHARS = 1024 * 1024;

export class LabProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly lineListeners = new Set<(line: string, stream: 'stdout' | 'stderr') => void>();
  private readonly log: fs.WriteStream;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    readonly netns: string,
    readonly argv: string[],
    logFile: string,
    env?: NodeJS.ProcessEnv,
    stdin = false,
  ) {
    this.log = fs.createWriteStream(logFile, { flags: 'a' });
    // `ip netns exec` execs the command, so the pid is the command's own.
    this.child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
    this.child.on('error', (err) => this.log.write(`spawn error: ${err.message}\n`));
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      this.child[stream]!.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        this.log.write(text);
        this[stream] = (this[stream] + text).slice(-KEEP_CHARS);
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) for (const l of this.lineListeners) l(line, stream);
      });
    }
    void this.exited.then(() => this.log.end());
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  onLine(listener: (line: string, stream: 'stdout' | 'stderr') => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  // Resolves with the first line (from now, or already printed) matching `re`.
  waitForLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = `${this.stdout}\n${this.stderr}`.split('\n').find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const off = this.onLine((line) => {
        if (re.test(line)) done(() => resolve(line));
      });
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no line matching ${re} after ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`))), timeoutMs);
      void this.exited.then(({ code, signal }) => done(() => reject(new Error(`${this.name} exited (${code ?? signal}) before printing ${re}; stderr: ${this.stderr.slice(-2000)}`))));
      let finished = false;
      const done = (fn: () => void) => {
        if (finished) return;
        finished = true;
        off();
        clearTimeout(timer);
        fn();
      };
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 3000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  // Only for processes spawned with stdin: true.
  write(text: string): void {
    this.child.stdin?.write(text);
  }

  endInput(): void {
    this.child.stdin?.end();
  }

  // For exit handlers, where nothing can be awaited.
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
