// `meridian edge` as a real process with a rejection nobody handles: the part
// logs it and exits 70 for its supervisor to restart it. The rejection comes
// from a preload (node --require) that this test writes, on SIGUSR2, so the
// part carries no test hook of its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, ROOT, writeConfig } from './testing/edge-process';
import { serviceDoc } from './testing/upstream-server';

describe('meridian edge (process): an unhandled rejection', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-edge-fatal-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is logged with its stack and the edge exits 70 instead of serving on half-dead', async () => {
    const preload = path.join(dir, 'reject-on-usr2.js');
    fs.writeFileSync(preload, `process.on('SIGUSR2', () => { Promise.reject(new Error('injected rejection')); });\n`);
    const config = writeConfig(dir, [serviceDoc('echo', { hosts: ['echo.example.com'] })]);
    const child = spawn(process.execPath, ['--require', preload, BIN, 'edge', '--config', config, '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--name', 'fatal-edge'], {
      cwd: ROOT,
      env: { ...process.env, MERIDIAN_LOG_LEVEL: 'info' },
    });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let buffer = '';
    let onStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (onStarted = resolve));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as Record<string, unknown>;
          lines.push(rec);
          if (rec.msg === 'edge started') onStarted();
        } catch {
          // not JSON
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await Promise.race([started, exit.then(() => assert.fail(`edge exited before starting: ${stderr}`))]);
      child.kill('SIGUSR2');
      assert.equal(await exit, 70, stderr);
    } finally {
      clearTimeout(guard);
      child.kill('SIGKILL');
    }
    const fatal = lines.find((l) => l.kind === 'unhandled-rejection');
    assert.ok(fatal, `a fatal log line in ${JSON.stringify(lines)}`);
    assert.equal(fatal.level, 60);
    assert.equal(fatal.name, 'meridian-edge');
    const err = fatal.err as { message: string; stack: string };
    assert.equal(err.message, 'injected rejection');
    assert.match(err.stack, /reject-on-usr2\.js/);
  });
});
