// Resident memory of a proxy, from /proc: VmRSS of its process and every
// process under it (pages shared between nginx's master and worker, or the
// edge's primary and workers, count once per process).
import * as fs from 'node:fs';
import { processTree } from './cpu-time';

export function rssBytes(root: number): number {
  let total = 0;
  for (const { pid } of processTree(root)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

// Open sockets of one process (links to socket:[inode] under /proc/PID/fd).
export function socketCount(pid: number): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

// The soft limit on open files of this process.
export function openFilesLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m === null || m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}
