// Checks a /metrics body with Prometheus's own promtool (`promtool check
// metrics`, from Debian's prometheus package, which scripts/ensure-deps.sh
// installs): what it accepts, Prometheus scrapes. It also holds the body to
// Prometheus's naming lint (HELP on every family, _total on counters, units).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

// promtool's exit codes: 1 when the text does not parse, 3 when it parses
// but breaks the lint.
const LINT_ONLY = 3;
// prom-client's default gauges of Node's active handles, requests and
// resources end in _total, which the lint keeps for counters: their names are
// prom-client's, not Meridian's to choose.
const PROM_CLIENT_NAMES = /^\S*nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

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
  const problems = output.split('\n').filter((line) => line.trim() !== '' && !PROM_CLIENT_NAMES.test(line));
  if (code === 0 || (code === LINT_ONLY && problems.length === 0)) return;
  assert.fail(`promtool check metrics refuses ${source} (exit ${code}):\n${problems.join('\n')}`);
}
