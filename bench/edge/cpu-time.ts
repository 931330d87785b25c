// CPU time used by a process and its descendants (nginx's workers, the
// edge's cluster workers), from /proc. Requests per CPU-second is a measure
// of a proxy's cost that holds up when other processes share the machine,
// where requests per second does not.
import * as fs from 'node:fs';

const TICKS_PER_SECOND = 100;

interface Stat {
  ppid: number;
  ticks: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

// `root` and every process under it (nginx's workers, the edge's cluster
// workers), with their CPU ticks.
export function processTree(root: number): { pid: number; ticks: number }[] {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (s === undefined) continue;
    ticks.set(pid, s.ticks);
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const tree: { pid: number; ticks: number }[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (ticks.has(pid)) tree.push({ pid, ticks: ticks.get(pid)! });
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

// Seconds of CPU (user + system) of `root` and every process under it.
export function cpuSeconds(root: number): number {
  return processTree(root).reduce((sum, p) => sum + p.ticks, 0) / TICKS_PER_SECOND;
}

// The 1-minute load average, to tell a quiet machine from a busy one.
export function loadAverage(): number {
  return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
