// Checks a /metrics body with Prometheus's own promtool (`promtool check
// metrics`, from Debian's prometheus package, which scripts/ensure-deps.sh
// installs): what it accepts, Prometheus scrapes. It also holds the body to
// Prometheus's naming lint (HELP on every family, _total on counters, units).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

export async function assertPromtoolAccepts(text: string, source: string): Promise<void> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error("promtool not found: install Debian's prometheus package (npm test does, through scripts/ensure-deps.sh)") : err),
    );
    child.on('close', (exitCode) => resolve({ code: exitCode, output }));
    // promtool may exit on a parse error before it has read everything.
    child.stdin.on('error', () => {});
    child.stdin.end(text);
  });
  assert.equal(code, 0, `promtool check metrics refuses ${source}:\n${output}`);
}
