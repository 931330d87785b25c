// The processes a bench run starts: each pinned to its CPUs with taskset,
// ready once it answers over HTTP, and stopped (SIGTERM, then SIGKILL)
// whatever happens. Nothing outlives the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request, type Dispatcher } from 'undici';
export { freePort } from '../../lib/process/free-port';

export interface Started {
  name: string;
  child: ChildProcess;
  port: number;
  output: string[];
}

// How readiness is checked: GET `path` (default "/") over https (the TLS
// rows, whose certificate is the bench's own self-signed one) or http.
export interface Probe {
  https?: boolean;
  path?: string;
}

const running = new Set<Started>();
let selfSigned: Dispatcher | undefined;

// Starts `argv` on `cpus` and waits (up to 20 s) for 200 from GET / with `host`.
export async function start(
  name: string,
  cpus: string,
  argv: string[],
  port: number,
  host: string,
  env: NodeJS.ProcessEnv = {},
  probe: Probe = {},
): Promise<Started> {
  const child = spawn('taskset', ['-c', cpus, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const s: Started = { name, child, port, output: [] };
  running.add(s);
  const keep = (d: Buffer) => {
    if (s.output.length < 200) s.output.push(d.toString());
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => running.delete(s));
  await serving(s, port, host, probe);
  return s;
}

// Waits (up to 20 s) until a started process answers 200 on `port` too (a
// second listener of it); stops it if it never does.
export async function serving(s: Started, port: number, host: string, probe: Probe = {}): Promise<void> {
  const deadline = Date.now() + 20_000;
  const url = `${probe.https ? 'https' : 'http'}://127.0.0.1:${port}${probe.path ?? '/'}`;
  if (probe.https) selfSigned ??= new Agent({ connect: { rejectUnauthorized: false } });
  while (Date.now() < deadline && s.child.exitCode === null && s.child.signalCode === null) {
    try {
      const r = await request(url, { headers: { host }, headersTimeout: 1_000, bodyTimeout: 1_000, ...(probe.https ? { dispatcher: selfSigned } : {}) });
      await r.body.dump();
      if (r.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop(s);
  throw new Error(`${s.name} did not come up on port ${port}: ${s.output.join('')}`);
}

export function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
    s.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    s.child.kill('SIGTERM');
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stop));
  await selfSigned?.close();
  selfSigned = undefined;
}
