// The lab's ownership of host resources: one run-unique prefix (mr + 4 hex),
// a directory, the namespaces and veth pairs it made, the processes it
// started and the WireGuard interfaces it brought up. Teardown removes all of
// it, by what it tracked and then by sweeping the prefix, and runs on exit
// and on SIGINT/SIGTERM too.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, type RunOptions, type RunResult } from '../../lib/net/exec';
import { bringDown } from '../../lib/net/wireguard';
import { onExit } from './exit-hooks';
import { killSync, leftovers, namespacesWithPrefix, sweep } from './host-state';
import { LabProcess } from './lab-process';
import { requireLabHost } from './require-root';

export const LAB_DIR_ROOT = path.join(os.tmpdir(), 'meridian-netns');

export interface SandboxOptions {
  prefix?: string;
  // Keep the directory (configs, logs, captures) after teardown.
  keepDir?: boolean;
}

export interface SpawnOptions {
  name?: string;
  env?: NodeJS.ProcessEnv;
  // Keep stdin open for write() (an agent reading commands).
  stdin?: boolean;
}

function freshPrefix(): string {
  for (let i = 0; i < 20; i++) {
    const prefix = `mr${crypto.randomBytes(2).toString('hex')}`;
    if (!namespacesWithPrefix(prefix).length && !fs.existsSync(path.join(LAB_DIR_ROOT, prefix))) return prefix;
  }
  throw new Error('no free lab prefix after 20 tries');
}

export class Sandbox {
  readonly prefix: string;
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly processes: LabProcess[] = [];
  private readonly wgInterfaces: { ifname: string; netns: string }[] = [];
  private readonly forgetExitHook: () => void;
  private state: 'up' | 'tearing-down' | 'down' = 'up';

  constructor(private readonly opts: SandboxOptions = {}) {
    requireLabHost();
    this.prefix = opts.prefix ?? freshPrefix();
    this.dir = path.join(LAB_DIR_ROOT, this.prefix);
    // Registered before anything exists, so a failure halfway is cleaned too.
    this.forgetExitHook = onExit(() => this.teardownSync());
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  exec(netns: string | undefined, cmd: string, args: string[], opts: Omit<RunOptions, 'netns'> = {}): Promise<RunResult> {
    return run(cmd, args, { ...opts, netns });
  }

  async addNamespace(name: string): Promise<void> {
    if (!name.startsWith(this.prefix)) throw new Error(`namespace ${name} lacks the lab prefix ${this.prefix}`);
    this.namespaces.push(name);
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'set', 'dev', 'lo', 'up'], { netns: name });
  }

  // A veth pair made directly inside its two namespaces, addressed and up.
  async addVeth(a: { netns: string; ifname: string; cidr: string }, b: { netns: string; ifname: string; cidr: string }): Promise<void> {
    for (const end of [a, b]) {
      if (!end.ifname.startsWith(this.prefix) || end.ifname.length > 15) throw new Error(`interface ${end.ifname}: needs the prefix and at most 15 characters`);
    }
    await run('ip', ['link', 'add', 'name', a.ifname, 'netns', a.netns, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.netns]);
    for (const end of [a, b]) {
      await run('ip', ['address', 'add', end.cidr, 'dev', end.ifname], { netns: end.netns });
      await run('ip', ['link', 'set', 'dev', end.ifname, 'up'], { netns: end.netns });
    }
  }

  spawn(netns: string, cmd: string, args: string[], opts: SpawnOptions = {}): LabProcess {
    if (this.state !== 'up') throw new Error('lab is torn down');
    const name = opts.name ?? `${path.basename(cmd)}-${this.processes.length}`;
    const p = new LabProcess(name, netns, [cmd, ...args], path.join(this.dir, `${name}.log`), opts.env, opts.stdin);
    this.processes.push(p);
    return p;
  }

  trackWireGuard(ifname: string, netns: string): void {
    this.wgInterfaces.push({ ifname, netns });
  }

  // The graceful way: processes get SIGTERM (BIRD withdraws, tcpdump
  // flushes), WireGuard interfaces go down through lib/net, then the sweep.
  async teardown(): Promise<void> {
    if (this.state !== 'up') return;
    this.state = 'tearing-down';
    try {
      await Promise.all(this.processes.map((p) => p.stop('SIGTERM', 2000)));
      for (const wg of this.wgInterfaces) {
        try {
          await bringDown(wg.ifname, { netns: wg.netns });
        } catch {
          // the sweep below gets it
        }
      }
    } finally {
      this.teardownSync();
    }
  }

  teardownSync(): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.forgetExitHook();
    for (const p of this.processes) p.killNow();
    killSync(this.processes.map((p) => p.pid).filter((pid): pid is number => pid !== undefined));
    sweep(this.prefix);
    if (!this.opts.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  leftovers(): string[] {
    return leftovers(this.prefix);
  }
}
