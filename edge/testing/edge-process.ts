// `meridian edge` as a real process for tests: bin/meridian -> cli ->
// edge/main, started with the given flags; resolves once it logged that it
// started (bounded), with the ports it listens on.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { MERIDIAN_BIN, repoRoot } from '../../test-support/repo-root';

export const ROOT = repoRoot();
export const BIN = MERIDIAN_BIN();

export interface Running {
  child: ChildProcess;
  port: number;
  admin: number;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

export function writeConfig(dir: string, docs: unknown[]): string {
  const file = path.join(dir, `edge-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  return file;
}

export function startEdge(args: string[], startedMessage = 'edge started', timeoutMs = 15_000): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'edge', ...args], { cwd: ROOT, env: { ...process.env, MERIDIAN_LOG_LEVEL: 'info' } });
    const stdout: string[] = [];
    const stderr: string[] = [];
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`edge did not start: ${stderr.join('')} ${stdout.join('\n')}`));
    }, timeoutMs);
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        stdout.push(line);
        try {
          const rec = JSON.parse(line) as { msg?: string; http?: { port: number }; admin?: { port: number } };
          if (rec.msg === startedMessage) {
            clearTimeout(timer);
            resolve({ child, port: rec.http?.port ?? 0, admin: rec.admin?.port ?? 0, stdout, stderr, exit });
          }
        } catch {
          // not JSON
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`edge exited with ${code} before starting: ${stderr.join('')}`));
    });
  });
}
