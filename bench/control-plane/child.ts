// A bench helper process (compiled .js next to this file) forked with an IPC
// channel; killed with the bench.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export class BenchChild<Cmd, Reply> {
  readonly process: ChildProcess;
  private readonly listeners = new Set<(r: Reply) => void>();

  constructor(file: string, logFile?: number) {
    this.process = fork(path.join(__dirname, file), [], { stdio: ['ignore', logFile ?? 'inherit', logFile ?? 'inherit', 'ipc'], serialization: 'advanced' });
    // A dead child surfaces as requests that time out, not as a crash.
    this.process.on('error', () => undefined);
    this.process.on('message', (r: Reply) => {
      for (const l of this.listeners) l(r);
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  send(cmd: Cmd): void {
    if (this.process.connected) this.process.send(cmd as never, () => undefined);
  }

  on(listener: (r: Reply) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // The first reply that matches, within the timeout.
  request(cmd: Cmd, match: (r: Reply) => boolean, timeoutMs = 30_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no answer from ${path.basename(String(this.process.spawnargs[1]))} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((r) => {
        if (!match(r)) return;
        clearTimeout(timer);
        off();
        resolve(r);
      });
      this.send(cmd);
    });
  }

  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}
