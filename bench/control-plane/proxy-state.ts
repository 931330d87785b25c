// What one simulated proxy holds of its discovery stream: counts, not
// documents. Enough to tell when it has the full state, and the value of every
// watched "<region>|<service>" key (healthy/total) to time propagation.
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';

export interface Count {
  healthy: number;
  total: number;
}

export interface ProxyStats {
  name: string;
  region: string;
  connected: boolean;
  error?: string;
  messages: number;
  // Instances, resources and remote service entries decoded, all messages.
  entries: number;
  version: number;
  services: number;
  localTotal: number;
  localHealthy: number;
  // Remote region -> services with a healthy instance there.
  remoteHealthy: Record<string, number>;
}

export interface KeyChange {
  key: string;
  value: string;
  version: number;
}

export class ProxyState {
  messages = 0;
  entries = 0;
  version = 0;
  private readonly services = new Set<string>();
  private readonly local = new Map<string, Count>();
  private localTotal = 0;
  private localHealthy = 0;
  private readonly remote = new Map<string, Map<string, Count>>();
  private readonly remoteHealthy = new Map<string, number>();
  private readonly values = new Map<string, string>();
  // Region -> watched services there.
  private readonly watched = new Map<string, string[]>();
  private readonly watchedLocal: Set<string>;

  constructor(readonly region: string, watchedKeys: string[]) {
    for (const key of watchedKeys) {
      const [r, s] = key.split('|') as [string, string];
      let list = this.watched.get(r);
      if (!list) this.watched.set(r, (list = []));
      list.push(s);
    }
    this.watchedLocal = new Set(this.watched.get(region) ?? []);
  }

  // Applies one message; returns the watched keys whose value it changed.
  apply(msg: View__Output): KeyChange[] {
    this.messages++;
    this.version = Number(msg.version);
    const touched = new Set<string>();
    if (msg.full) {
      this.services.clear();
      this.local.clear();
      this.localTotal = this.localHealthy = 0;
      this.remote.clear();
      this.remoteHealthy.clear();
      for (const r of this.watched.keys()) touched.add(r);
    }
    for (const r of msg.resources) {
      this.entries++;
      if (r.kind === 'Service') this.services.add(r.name);
    }
    for (const key of msg.removedResources) if (key.startsWith('Service/')) this.services.delete(key.slice('Service/'.length));
    if (msg.instanceServices.length) this.applyInstances(msg);
    for (const r of msg.regions) this.applyRegion(r, touched);
    for (const name of msg.removedRegions) {
      this.dropRegion(name);
      touched.add(name);
    }
    return this.changes(touched, msg.instanceServices);
  }

  private applyInstances(msg: View__Output): void {
    const fresh = new Map<string, Count>();
    for (const s of msg.instanceServices) fresh.set(s, { healthy: 0, total: 0 });
    for (const i of msg.instances) {
      this.entries++;
      const c = fresh.get(i.service);
      if (!c) continue;
      c.total++;
      if (i.healthy) c.healthy++;
    }
    for (const [s, c] of fresh) {
      const old = this.local.get(s);
      if (old) {
        this.localTotal -= old.total;
        this.localHealthy -= old.healthy;
      }
      if (c.total === 0) this.local.delete(s);
      else this.local.set(s, c);
      this.localTotal += c.total;
      this.localHealthy += c.healthy;
    }
  }

  private applyRegion(r: View__Output['regions'][number], touched: Set<string>): void {
    touched.add(r.name);
    const partial = r.servicesPartial;
    let services = this.remote.get(r.name);
    if (!partial || !services) {
      this.dropRegion(r.name);
      this.remote.set(r.name, (services = new Map()));
    }
    let healthy = this.remoteHealthy.get(r.name) ?? 0;
    for (const s of r.services) {
      this.entries++;
      const old = services.get(s.service);
      if (old && old.healthy > 0) healthy--;
      services.set(s.service, { healthy: s.healthy, total: s.total });
      if (s.healthy > 0) healthy++;
    }
    for (const name of r.removedServices) {
      const old = services.get(name);
      if (old && old.healthy > 0) healthy--;
      services.delete(name);
    }
    this.remoteHealthy.set(r.name, healthy);
  }

  private dropRegion(name: string): void {
    this.remote.delete(name);
    this.remoteHealthy.delete(name);
  }

  private changes(regions: Set<string>, localServices: string[]): KeyChange[] {
    const out: KeyChange[] = [];
    const check = (region: string, service: string, c: Count | undefined) => {
      const key = `${region}|${service}`;
      const value = `${c?.healthy ?? 0}/${c?.total ?? 0}`;
      if (this.values.get(key) === value) return;
      this.values.set(key, value);
      out.push({ key, value, version: this.version });
    };
    for (const region of regions) {
      if (region === this.region) continue;
      const services = this.remote.get(region);
      for (const s of this.watched.get(region) ?? []) check(region, s, services?.get(s));
    }
    const mine = this.watched.get(this.region);
    if (mine) {
      const set = regions.has(this.region) ? mine : localServices.filter((s) => this.watchedLocal.has(s));
      for (const s of set) check(this.region, s, this.local.get(s));
    }
    return out;
  }

  stats(name: string, connected: boolean, error?: string): ProxyStats {
    return {
      name,
      region: this.region,
      connected,
      error,
      messages: this.messages,
      entries: this.entries,
      version: this.version,
      services: this.services.size,
      localTotal: this.localTotal,
      localHealthy: this.localHealthy,
      remoteHealthy: Object.fromEntries(this.remoteHealthy),
    };
  }
}
