// The fatal error handlers in a child process of their own: what the process
// logs, counts and exits with when a rejection or an exception goes unhandled.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const HANDLERS = path.join(__dirname, 'fatal-errors.js');
const LOGGER = path.join(__dirname, '..', 'observability', 'logger.js');
const METRICS = path.join(__dirname, '..', 'observability', 'metrics.js');

interface Outcome {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

// The child installs the handlers with a registry, keeps a timer running (a
// live server would too), then fails in the way `trigger` says. Before the
// real exit it prints the registry's counter to stderr.
function runChild(trigger: string): Promise<Outcome> {
  const script = `
    const { installFatalErrorHandlers } = require(${JSON.stringify(HANDLERS)});
    const { createLogger } = require(${JSON.stringify(LOGGER)});
    const { createRegistry } = require(${JSON.stringify(METRICS)});
    const registry = createRegistry('probe', false);
    installFatalErrorHandlers({
      logger: createLogger('probe'),
      registry,
      exit: (code) => void registry.metrics().then((text) => { process.stderr.write(text); process.exit(code); }),
    });
    setInterval(() => undefined, 1000);
    setTimeout(() => { ${trigger} }, 10);
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, MERIDIAN_LOG_LEVEL: 'info' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, stderr });
    });
  });
}

function counterValue(stderr: string, kind: string): number | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith(`meridian_process_fatal_errors_total{kind="${kind}"`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('fatal error handlers', () => {
  it('an unhandled rejection is logged with its message and stack, counted, and ends the process with 70', async () => {
    const out = await runChild(`Promise.reject(new Error('lost the etcd lease watcher'));`);
    assert.equal(out.code, 70, out.stderr);
    const fatal = out.lines.find((l) => l.level === 60);
    assert.ok(fatal, `a fatal log line in ${JSON.stringify(out.lines)}`);
    assert.equal(fatal.kind, 'unhandled-rejection');
    assert.match(String(fatal.msg), /unhandled promise rejection; exiting/);
    const err = fatal.err as { message: string; stack: string };
    assert.equal(err.message, 'lost the etcd lease watcher');
    assert.match(err.stack, /Error: lost the etcd lease watcher\n\s+at /);
    assert.equal(counterValue(out.stderr, 'unhandled-rejection'), 1);
    assert.equal(counterValue(out.stderr, 'uncaught-exception'), 0);
  });

  it('an uncaught exception is logged, counted as such, and ends the process with 70', async () => {
    const out = await runChild(`throw new TypeError('cannot read properties of undefined');`);
    assert.equal(out.code, 70, out.stderr);
    const fatal = out.lines.find((l) => l.level === 60);
    assert.ok(fatal, `a fatal log line in ${JSON.stringify(out.lines)}`);
    assert.equal(fatal.kind, 'uncaught-exception');
    assert.equal((fatal.err as { type: string }).type, 'TypeError');
    assert.equal(counterValue(out.stderr, 'uncaught-exception'), 1);
    assert.equal(counterValue(out.stderr, 'unhandled-rejection'), 0);
  });

  it('a rejection with a value that is not an Error is still logged and ends the process', async () => {
    const out = await runChild(`Promise.reject('a bare string');`);
    assert.equal(out.code, 70, out.stderr);
    const fatal = out.lines.find((l) => l.level === 60);
    assert.equal((fatal?.err as { message: string }).message, 'non-error value: a bare string');
  });

  it('without the exit hook the process exits by itself with 70 after the log is flushed', async () => {
    const script = `
      const { installFatalErrorHandlers } = require(${JSON.stringify(HANDLERS)});
      const { createLogger } = require(${JSON.stringify(LOGGER)});
      installFatalErrorHandlers({ logger: createLogger('probe') });
      setInterval(() => undefined, 1000);
      setTimeout(() => Promise.reject(new Error('dropped')), 10);
    `;
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script]);
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout });
      });
    });
    assert.equal(out.code, 70);
    assert.match(out.stdout, /"kind":"unhandled-rejection".*"message":"dropped"/);
  });
});
