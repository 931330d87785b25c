// What this zone holds of the global state: the resources at a version, and
// the last view of every region. Persisted after every applied change so a
// restarted zone controller serves from it while the global controller is away.
import { EventEmitter } from 'node:events';
import type { ResourceDocument } from '../../lib/resources';
import type { RegionStatus__Output } from '../../proto/generated/meridian/federation/v1/RegionStatus';
import { readJsonFile, writeJsonFile } from './atomic-file';

export interface HeldResource {
  kind: string;
  name: string;
  document: ResourceDocument;
  modRevision: number;
}

interface PersistedState {
  version: number;
  resources: HeldResource[];
  regions: RegionStatus__Output[];
}

export declare interface GlobalState {
  on(event: 'resources', listener: (changedKeys: string[]) => void): this;
  on(event: 'regions', listener: (changedRegions: string[]) => void): this;
}

export class GlobalState extends EventEmitter {
  version = 0;
  readonly resources = new Map<string, HeldResource>();
  readonly regions = new Map<string, RegionStatus__Output>();
  private dirty = false;
  private writing: Promise<void> | undefined;

  constructor(private readonly file: string | undefined) {
    super();
  }

  // Loads the persisted state; returns why it could not when it could not.
  load(): { loaded: boolean; problem?: string } {
    if (!this.file) return { loaded: false };
    const read = readJsonFile<PersistedState>(this.file, validatePersisted);
    if (!read.ok) return { loaded: false, problem: read.reason === 'corrupt' ? `${this.file} is corrupt (${read.error}); starting empty` : undefined };
    this.version = read.value.version;
    for (const r of read.value.resources) this.resources.set(`${r.kind}/${r.name}`, r);
    for (const r of read.value.regions) this.regions.set(r.region, r);
    return { loaded: true };
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
    this.persist();
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
    this.persist();
  }

  // Version moves on without applying (a refused change): the zone keeps what it had.
  skipTo(version: number): void {
    this.version = version;
    this.persist();
  }

  applyRegions(full: boolean, regions: RegionStatus__Output[], removed: string[]): void {
    const changed = new Set<string>();
    if (full) {
      for (const name of this.regions.keys()) changed.add(name);
      this.regions.clear();
    }
    for (const r of regions) {
      this.regions.set(r.region, r);
      changed.add(r.region);
    }
    for (const name of removed) if (this.regions.delete(name)) changed.add(name);
    this.emit('regions', [...changed]);
    this.persist();
  }

  // One write at a time; a burst of changes while one is in flight becomes a
  // single further write of the newest state.
  private persist(): void {
    if (!this.file) return;
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop(this.file).finally(() => (this.writing = undefined));
  }

  private async writeLoop(file: string): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const state: PersistedState = { version: this.version, resources: [...this.resources.values()], regions: [...this.regions.values()] };
      await writeJsonFile(file, state).catch(() => undefined);
    }
  }

  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }
}

function validatePersisted(payload: unknown): string | undefined {
  const p = payload as Partial<PersistedState>;
  if (typeof p !== 'object' || p === null) return 'not an object';
  if (typeof p.version !== 'number') return 'version is missing';
  if (!Array.isArray(p.resources)) return 'resources is missing';
  if (!Array.isArray(p.regions)) return 'regions is missing';
  return undefined;
}
