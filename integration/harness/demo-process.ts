// `meridian demo --json` as a real process: waits for its JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MERIDIAN_BIN } from '../../test-support/repo-root';
import type { DemoEndpoints } from '../../cli/demo/demo-runner';

export class DemoProcess {
  private child: ChildProcess | undefined;
  stderr = '';
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-demo-test-'));

  constructor(readonly portOffset: number) {}

  start(timeoutMs = 120_000): Promise<DemoEndpoints> {
    const child = spawn(process.execPath, [MERIDIAN_BIN(), 'demo', '--json', '--port-offset', String(this.portOffset), '--data-dir', this.dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`demo not ready after ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(JSON.parse(out.slice(0, nl)) as DemoEndpoints);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`demo exited with ${code} before it was ready:\n${this.stderr}`));
      });
    });
  }

  log(part: string, lines = 30): string {
    try {
      return fs.readFileSync(path.join(this.dataDir, 'logs', `${part}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  // Ctrl-C, as a person would stop it.
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
      child.kill('SIGINT');
    });
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    return code;
  }
}
