// The machine a bench ran on, for its results: cores, CPU model, memory,
// kernel, and the versions of what was measured.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memory: string;
  kernel: string;
  node: string;
  wrk: string;
  nginx: string;
  haproxy: string;
  fastifyHttpProxy: string;
}

// The first line a command prints on stdout or stderr, whatever its exit
// status: nginx -v prints to stderr and exits 0, wrk -v prints and exits 1.
function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim();
}

export function describeMachine(): Machine {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
  const kb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  return {
    nproc: Number(firstLine('nproc', [])),
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1].trim() ?? 'unknown',
    memory: `${(kb / 1024 / 1024).toFixed(1)} GiB`,
    kernel: os.release(),
    node: process.version,
    wrk: firstLine('wrk', ['-v']),
    nginx: firstLine('nginx', ['-v']),
    haproxy: firstLine('haproxy', ['-v']),
    fastifyHttpProxy: `fastify ${require('fastify/package.json').version}, @fastify/http-proxy ${require('@fastify/http-proxy/package.json').version}`,
  };
}
