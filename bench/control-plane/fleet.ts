// The parent's side of the simulated proxies: where each watched key stands
// at each proxy and when it got there.
import { BenchChild } from './child';
import type { FleetCommand, FleetReply, ProxySpec } from './proxy-fleet-process';
import type { ProxyStats } from './proxy-state';

export interface Seen {
  value: string;
  at: number;
  version: number;
}

export class Fleet {
  readonly child: BenchChild<FleetCommand, FleetReply>;
  readonly proxies = new Map<string, ProxySpec>();
  // proxy -> key -> latest value.
  private readonly latest = new Map<string, Map<string, Seen>>();
  private waiters = new Set<() => void>();
  private statsId = 0;

  constructor(private readonly watched: string[], logFd?: number) {
    this.child = new BenchChild('proxy-fleet-process.js', logFd);
    this.child.on((r) => {
      if (r.type !== 'changes') return;
      let m = this.latest.get(r.proxy);
      if (!m) this.latest.set(r.proxy, (m = new Map()));
      for (const c of r.changes) m.set(c.key, { value: c.value, at: r.at, version: c.version });
      for (const w of this.waiters) w();
    });
  }

  connect(proxies: ProxySpec[]): void {
    for (const p of proxies) this.proxies.set(p.name, p);
    this.child.send({ type: 'connect', proxies, watched: this.watched });
  }

  close(names: string[]): void {
    for (const n of names) {
      this.proxies.delete(n);
      this.latest.delete(n);
    }
    this.child.send({ type: 'close', names });
  }

  async stats(): Promise<ProxyStats[]> {
    const id = ++this.statsId;
    const r = await this.child.request({ type: 'stats', id }, (x) => x.type === 'stats' && x.id === id, 60_000);
    return (r as Extract<FleetReply, { type: 'stats' }>).proxies;
  }

  seen(proxy: string, key: string): Seen | undefined {
    return this.latest.get(proxy)?.get(key);
  }

  // Resolves with each proxy's Seen once every named proxy's value of `key`
  // passes `ok`; undefined entries for those that did not within the timeout.
  // `since`: only what a proxy saw from then on counts (a proxy that has not
  // heard of the change may still hold an older value that looks right).
  async waitAll(key: string, ok: (value: string) => boolean, proxies: string[], timeoutMs: number, since = 0): Promise<Map<string, Seen | undefined>> {
    const match = (s: Seen | undefined): s is Seen => s !== undefined && s.at >= since && ok(s.value);
    const done = () => proxies.every((p) => match(this.seen(p, key)));
    if (!done()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        const check = () => {
          if (done()) finish();
        };
        function finish(): void {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
        const waiters = this.waiters;
        waiters.add(check);
      });
    }
    return new Map(proxies.map((p) => {
      const s = this.seen(p, key);
      return [p, match(s) ? s : undefined];
    }));
  }

  kill(): void {
    this.child.kill();
  }
}
