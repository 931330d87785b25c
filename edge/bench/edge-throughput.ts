// A quick, bounded throughput figure: an upstream and `meridian edge
// --config` in child processes, this process as the load generator (undici,
// keep-alive, CONCURRENCY requests at a time) for BENCH_SECONDS (default 5),
// first straight to the upstream, then through the edge.
//   node dist/edge/bench/edge-throughput.js
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'undici';

const SECONDS = Math.min(30, Number(process.env.BENCH_SECONDS ?? 5));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROOT = path.resolve(__dirname, '..', '..', '..');

const UPSTREAM = `
const http = require('http');
const body = JSON.stringify({ name: 'bench-1', ok: true });
const s = http.createServer((req, res) => { res.writeHead(200, {'content-type': 'application/json', 'content-length': body.length}); res.end(body); });
s.keepAliveTimeout = 30000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', UPSTREAM]);
    child.stdout.once('data', (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }));
    child.once('exit', () => reject(new Error('upstream exited')));
  });
}

function startEdge(config: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'meridian'), 'edge', '--config', config, '--http', '127.0.0.1:0', '--access-log-sample', '0'], { cwd: ROOT });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"edge started"/.test(buf) && /"http":\{"address":"127\.0\.0\.1","family":"IPv4","port":(\d+)/.exec(buf);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`edge exited ${code}`)));
  });
}

async function load(port: number, host: string): Promise<{ rps: number; errors: number; p99: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  const deadline = performance.now() + SECONDS * 1000;
  let done = 0;
  let errors = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (performance.now() < deadline && done < 5_000_000) {
      const t = performance.now();
      try {
        const r = await pool.request({ path: '/', method: 'GET', headers: { host } });
        await r.body.dump();
        if (r.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rps: done / secs, errors, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

async function main(): Promise<void> {
  const up = await startUpstream();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-'));
  const config = path.join(dir, 'edge.yaml');
  fs.writeFileSync(
    config,
    `apiVersion: meridian.dev/v1\nkind: Service\nmetadata: {name: bench}\nspec: {}\n---\napiVersion: meridian.dev/v1\nkind: Instance\nmetadata: {name: bench-1}\nspec: {service: bench, address: 127.0.0.1, port: ${up.port}}\n`,
  );
  const edge = await startEdge(config);
  try {
    console.log(`${os.cpus().length} CPUs, node ${process.version}, ${CONCURRENCY} concurrent, ${SECONDS}s each`);
    const direct = await load(up.port, 'bench.mesh');
    console.log(`direct to upstream: ${Math.round(direct.rps)} req/s, p99 ${direct.p99.toFixed(2)} ms, ${direct.errors} errors`);
    const through = await load(edge.port, 'bench.mesh');
    console.log(`through the edge:   ${Math.round(through.rps)} req/s, p99 ${through.p99.toFixed(2)} ms, ${through.errors} errors`);
  } finally {
    edge.child.kill('SIGTERM');
    up.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
