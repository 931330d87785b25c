// What this zone holds of the global state: the resources at a version, and
// the last view of every region. Persisted so a restarted zone controller
// serves from it while the global controller is away: within a second of an
// applied resource change, within five of a snapshot (after the proxies have
// it: writing 10,000 services blocks for a few hundred milliseconds), and
// within five minutes of region view changes (they come many a second under
// churn, the view is whole again on every reconnect, and each write is such
// a pause).
//
// The private keys of Certificate resources are never written: the file
// holds each Certificate without its privateKey. A zone that starts from the
// file holds those Certificates keyless and announces version 0, so the
// global controller sends a whole snapshot, keys included; meanwhile the
// discovery view lets its proxies keep the copies they hold (see
// missingKey()).
import { EventEmitter } from 'node:events';
import type { ResourceDocument } from '../../lib/resources';
import type { RegionStatus__Output } from '../../proto/generated/meridian/federation/v1/RegionStatus';
import type { ServiceHealth__Output } from '../../proto/generated/meridian/federation/v1/ServiceHealth';
import { readJsonFile, writeJsonFile } from './atomic-file';

export interface HeldResource {
  kind: string;
  name: string;
  document: ResourceDocument;
  modRevision: number;
  // The document's JSON as the global controller sent it, passed on to
  // proxies as is (they validate it themselves) rather than stringified
  // again. Not persisted; absent for resources loaded from the state file.
  text?: Buffer;
}

interface PersistedState {
  version: number;
  resources: HeldResource[];
  regions: RegionStatus__Output[];
}

// Per changed region: the services whose counts changed, or 'all' when the
// region was replaced or removed. Other fields of a changed region may have
// changed either way.
export type RegionChanges = ReadonlyMap<string, ReadonlySet<string> | 'all'>;

const RESOURCES_PERSIST_MS = 1000;
// A snapshot comes when this zone joins or rejoins, with its proxies waiting
// for what it carries: the write (a few hundred milliseconds of blocking at
// 10,000 services) waits until they have been sent it.
const SNAPSHOT_PERSIST_MS = 5000;
const REGIONS_PERSIST_MS = 5 * 60_000;

export declare interface GlobalState {
  on(event: 'resources', listener: (changedKeys: string[]) => void): this;
  on(event: 'regions', listener: (changedRegions: string[], changes: RegionChanges) => void): this;
}

export class GlobalState extends EventEmitter {
  version = 0;
  readonly resources = new Map<string, HeldResource>();
  readonly regions = new Map<string, RegionStatus__Output>();
  // region -> service -> its index in that region's `services`.
  private readonly serviceIndex = new Map<string, Map<string, number>>();
  private dirty = false;
  private writing: Promise<void> | undefined;
  private resourcesTimer: NodeJS.Timeout | undefined;
  private regionsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string | undefined) {
    super();
  }

  // The version to announce to the global controller: 0 while a Certificate
  // is held without its key, so the next stream starts with a snapshot.
  get announcedVersion(): number {
    for (const r of this.resources.values()) if (missingKey(r)) return 0;
    return this.version;
  }

  // Loads the persisted state; returns why it could not when it could not.
  load(): { loaded: boolean; problem?: string } {
    if (!this.file) return { loaded: false };
    const read = readJsonFile<PersistedState>(this.file, validatePersisted);
    if (!read.ok) return { loaded: false, problem: read.reason === 'corrupt' ? `${this.file} is corrupt (${read.error}); starting empty` : undefined };
    this.version = read.value.version;
    // A file from an older version may still hold keys: they are dropped
    // here, and the next write leaves them out.
    for (const r of read.value.resources) this.resources.set(`${r.kind}/${r.name}`, withoutKey(r));
    if (read.value.resources.some((r) => r.kind === 'Certificate' && hasKey(r.document))) this.persistResources(0);
    for (const r of read.value.regions) this.setRegion(r);
    return { loaded: true };
  }

  // One service's counts in one region.
  regionService(region: string, service: string): ServiceHealth__Output | undefined {
    const i = this.serviceIndex.get(region)?.get(service);
    return i === undefined ? undefined : this.regions.get(region)!.services[i];
  }

  byKind<T extends ResourceDocument = ResourceDocument>(kind: string): T[] {
    const out: T[] = [];
    for (const r of this.resources.values()) if (r.kind === kind) out.push(r.document as T);
    return out;
  }

  get<T extends ResourceDocument = ResourceDocument>(kind: string, name: string): T | undefined {
    return this.resources.get(`${kind}/${name}`)?.document as T | undefined;
  }

  replaceAll(version: number, resources: HeldResource[]): void {
    const changed = new Set<string>(this.resources.keys());
    this.resources.clear();
    for (const r of resources) {
      const key = `${r.kind}/${r.name}`;
      this.resources.set(key, r);
      changed.add(key);
    }
    this.version = version;
    this.emit('resources', [...changed]);
    this.persistResources(SNAPSHOT_PERSIST_MS);
  }

  applyChanges(version: number, puts: HeldResource[], deletes: { kind: string; name: string }[]): void {
    const changed: string[] = [];
    for (const r of puts) {
      const key = `${r.kind}/${r.name}`;
      this.resources.set(key, r);
      changed.push(key);
    }
    for (const d of deletes) {
      const key = `${d.kind}/${d.name}`;
      if (this.resources.delete(key)) changed.push(key);
    }
    this.version = version;
    this.emit('resources', changed);
    this.persistResources();
  }

  // Version moves on without applying (a refused change): the zone keeps what it had.
  skipTo(version: number): void {
    this.version = version;
    this.persistResources();
  }

  // A region with servicesPartial is merged into the one held: its services
  // are upserts and removedServices removals; the rest replaces.
  // A full view (on every new stream) replaces what is held; a region
  // already held counts as changed only in the services that differ, so a
  // reconnect does not send every region whole to every proxy again.
  applyRegions(full: boolean, regions: RegionStatus__Output[], removed: string[]): void {
    const changed = new Map<string, Set<string> | 'all'>();
    if (full) {
      const named = new Set(regions.map((r) => r.region));
      for (const name of this.regions.keys()) if (!named.has(name)) removed = [...removed, name];
    }
    for (const r of regions) {
      const held = this.regions.get(r.region);
      if (full && held && !r.servicesPartial) {
        changed.set(r.region, this.servicesChanged(r.region, held, r.services));
        this.setRegion(r);
        continue;
      }
      if (!r.servicesPartial || !held) {
        this.setRegion(r);
        changed.set(r.region, 'all');
        continue;
      }
      let touched = changed.get(r.region);
      if (!touched) changed.set(r.region, (touched = new Set()));
      const services = held.services;
      this.regions.set(r.region, { ...r, services, servicesPartial: false, removedServices: [] });
      const index = this.serviceIndex.get(r.region)!;
      for (const s of r.services) {
        const i = index.get(s.service);
        if (i === undefined) index.set(s.service, services.push(s) - 1);
        else services[i] = s;
        if (touched !== 'all') touched.add(s.service);
      }
      for (const name of r.removedServices) {
        const i = index.get(name);
        if (i === undefined) continue;
        // Swap with the last one, so removal costs the same for any position.
        const last = services.pop()!;
        index.delete(name);
        if (i < services.length) {
          services[i] = last;
          index.set(last.service, i);
        }
        if (touched !== 'all') touched.add(name);
      }
    }
    for (const name of removed) {
      if (!this.regions.delete(name)) continue;
      this.serviceIndex.delete(name);
      changed.set(name, 'all');
    }
    this.emit('regions', [...changed.keys()], changed);
    this.persistRegions();
  }

  // The services of a held region whose counts differ in `services`, or
  // 'all' when some are gone or most changed.
  private servicesChanged(region: string, held: RegionStatus__Output, services: ServiceHealth__Output[]): Set<string> | 'all' {
    const index = this.serviceIndex.get(region)!;
    const changed = new Set<string>();
    let found = 0;
    for (const s of services) {
      const i = index.get(s.service);
      const h = i === undefined ? undefined : held.services[i];
      if (h) found++;
      if (!h || h.healthy !== s.healthy || h.total !== s.total || h.load !== s.load) changed.add(s.service);
    }
    return found < held.services.length || changed.size > services.length / 2 ? 'all' : changed;
  }

  private setRegion(r: RegionStatus__Output): void {
    const services = [...r.services];
    this.regions.set(r.region, { ...r, services, servicesPartial: false, removedServices: [] });
    this.serviceIndex.set(r.region, new Map(services.map((s, i) => [s.service, i])));
  }

  // One write at a time; a burst of changes while one is in flight becomes a
  // single further write of the newest state.
  private persist(): void {
    if (!this.file) return;
    clearTimeout(this.resourcesTimer);
    clearTimeout(this.regionsTimer);
    this.resourcesTimer = this.regionsTimer = undefined;
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop(this.file).finally(() => (this.writing = undefined));
  }

  private persistResources(delayMs = RESOURCES_PERSIST_MS): void {
    if (!this.file || this.resourcesTimer) return;
    this.resourcesTimer = setTimeout(() => this.persist(), delayMs);
    this.resourcesTimer.unref();
  }

  // Region views change many times a second under churn: written at most
  // every REGIONS_PERSIST_MS (or with the next resource change, or on flush).
  private persistRegions(): void {
    if (!this.file || this.regionsTimer) return;
    this.regionsTimer = setTimeout(() => this.persist(), REGIONS_PERSIST_MS);
    this.regionsTimer.unref();
  }

  private async writeLoop(file: string): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const resources = [...this.resources.values()].map((r) => ({ kind: r.kind, name: r.name, document: withoutKey(r).document, modRevision: r.modRevision }));
      const state: PersistedState = { version: this.version, resources, regions: [...this.regions.values()] };
      await writeJsonFile(file, state).catch(() => undefined);
    }
  }

  async flush(): Promise<void> {
    if (this.resourcesTimer || this.regionsTimer) this.persist();
    while (this.writing) await this.writing;
  }
}

// A Certificate held without its private key (loaded from the file, which never has it).
export function missingKey(r: HeldResource): boolean {
  return r.kind === 'Certificate' && !hasKey(r.document);
}

function hasKey(document: ResourceDocument): boolean {
  return typeof (document.spec as { privateKey?: unknown } | undefined)?.privateKey === 'string';
}

function withoutKey(r: HeldResource): HeldResource {
  if (r.kind !== 'Certificate' || !hasKey(r.document)) return r;
  const { privateKey: _key, ...spec } = r.document.spec as Record<string, unknown>;
  return { ...r, document: { ...r.document, spec } as ResourceDocument, text: undefined };
}

function validatePersisted(payload: unknown): string | undefined {
  const p = payload as Partial<PersistedState>;
  if (typeof p !== 'object' || p === null) return 'not an object';
  if (typeof p.version !== 'number') return 'version is missing';
  if (!Array.isArray(p.resources)) return 'resources is missing';
  if (!Array.isArray(p.regions)) return 'regions is missing';
  return undefined;
}
