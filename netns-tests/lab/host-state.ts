// What the host holds under a prefix: namespaces, links, processes, and
// wireguard-go sockets. Teardown uses it to sweep, the tests to prove that
// nothing is left. Synchronous, so exit handlers can use it too.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const WG_SOCKET_DIR = '/var/run/wireguard';

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout : '';
}

export function namespacesWithPrefix(prefix: string): string[] {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
}

export function rootLinksWithPrefix(prefix: string): string[] {
  return sh('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n && n.startsWith(prefix));
}

export function pidsInNamespace(ns: string): number[] {
  return sh('ip', ['netns', 'pids', ns])
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

export interface HostProcess {
  pid: number;
  argv: string[];
}

// Live (not zombie) processes that belong to the prefix: wireguard-go for
// one of its interfaces, or anything whose command line names the prefix
// (BIRD is started with its config under the lab's directory).
export function processesWithPrefix(prefix: string): HostProcess[] {
  const found: HostProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!argv.length) continue;
      const base = path.basename(argv[0]!);
      const ours =
        (base === 'wireguard-go' && argv[argv.length - 1]!.startsWith(prefix)) ||
        (['bird', 'tcpdump'].includes(base) && argv.some((a) => a.includes(`/${prefix}`)));
      if (!ours) continue;
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z') found.push({ pid: Number(entry), argv });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function wgSocketsWithPrefix(prefix: string): string[] {
  try {
    return fs.readdirSync(WG_SOCKET_DIR).filter((f) => f.startsWith(prefix));
  } catch {
    return [];
  }
}

// Everything left under the prefix, one line each; empty when clean.
export function leftovers(prefix: string): string[] {
  return [
    ...namespacesWithPrefix(prefix).map((n) => `namespace ${n}`),
    ...rootLinksWithPrefix(prefix).map((l) => `link ${l}`),
    ...processesWithPrefix(prefix).map((p) => `process ${p.pid} ${p.argv.join(' ')}`),
    ...wgSocketsWithPrefix(prefix).map((s) => `socket ${WG_SOCKET_DIR}/${s}`),
  ];
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function alive(pid: number): boolean {
  try {
    const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

export function killSync(pids: number[], signal: NodeJS.Signals = 'SIGKILL', waitMs = 3000): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  for (let waited = 0; waited < waitMs && pids.some(alive); waited += 20) sleepSync(20);
}

// Removes everything under the prefix. Order matters: processes first (a
// wireguard-go keeps its namespace's tun), then namespaces (their veths go
// with them), then what was left in the root namespace.
export function sweep(prefix: string): void {
  const namespaces = namespacesWithPrefix(prefix);
  killSync([...namespaces.flatMap(pidsInNamespace), ...processesWithPrefix(prefix).map((p) => p.pid)]);
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  for (const link of rootLinksWithPrefix(prefix)) spawnSync('ip', ['link', 'del', 'dev', link], { timeout: 10_000 });
  for (const sock of wgSocketsWithPrefix(prefix)) fs.rmSync(path.join(WG_SOCKET_DIR, sock), { force: true });
}
