// The processes a parent started, found in /proc, and a readable name for
// each Meridian part from its command line (`meridian edge --name edge-fra`
// is edge-fra).
import * as fs from 'node:fs';

export interface NamedProcess {
  name: string;
  pid: number;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: ppid is the second field after it.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function argvOf(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

// Every live descendant of root (children, their children, ...).
export function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = parents.get(ppid) ?? [];
    list.push(pid);
    parents.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

const flag = (argv: string[], name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

// A name for a process from its argv: the Meridian part and its identity, or
// the program's base name.
export function partName(argv: string[]): string {
  const program = (argv[0] ?? '?').split('/').pop()!;
  const meridian = argv.findIndex((a) => /(^|\/)meridian(\.js)?$/.test(a) || a.endsWith('/cli/main.js'));
  if (meridian < 0) return program;
  const command = argv[meridian + 1] ?? '?';
  switch (command) {
    case 'edge':
      return flag(argv, '--name') ?? `${flag(argv, '--mode') ?? 'edge'}-${flag(argv, '--region') ?? '?'}`;
    case 'zone-controller':
      return `zone-${flag(argv, '--region') ?? '?'}`;
    case 'echo-server':
      return flag(argv, '--instance') ?? `echo-${flag(argv, '--listen') ?? '?'}`;
    default:
      return command;
  }
}

export function namedDescendants(root: number): NamedProcess[] {
  return descendants(root)
    .map((pid) => ({ pid, argv: argvOf(pid) }))
    .filter((p) => p.argv.length > 0)
    .map((p) => ({ pid: p.pid, name: partName(p.argv) }));
}
