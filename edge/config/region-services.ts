// What a remote region reports per service (healthy, total, load), kept as
// one compact table per region: three numbers in a typed array at the
// service's id, the ids given by a name table the regions of a view share.
// At ten thousand services and nine remote regions this replaces ninety
// thousand small objects, their map entries and a copy of every service
// name per region (the control-plane bench's edge-memory figure).
import type { RemoteServiceState } from './edge-view';

// Service name -> small integer, shared by the region tables of one view
// state. Ids are not reused; a full view starts a new table.
export class ServiceIds {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  find(name: string): number | undefined {
    return this.ids.get(name);
  }
}

const FIELDS = 3;
// Per id: healthy, total, load, and whether the region reports the service.
const ABSENT = 0;
const PRESENT = 1;

export class RegionServices implements Iterable<[string, RemoteServiceState]> {
  private counts = new Uint32Array(0);
  private present = new Uint8Array(0);
  private count = 0;

  constructor(private readonly ids: ServiceIds) {}

  get size(): number {
    return this.count;
  }

  get(service: string): RemoteServiceState | undefined {
    const id = this.ids.find(service);
    if (id === undefined || this.present[id] !== PRESENT) return undefined;
    const at = id * FIELDS;
    return { healthy: this.counts[at], total: this.counts[at + 1], load: this.counts[at + 2] };
  }

  has(service: string): boolean {
    const id = this.ids.find(service);
    return id !== undefined && this.present[id] === PRESENT;
  }

  set(service: string, state: RemoteServiceState): void {
    const id = this.ids.id(service);
    if (id >= this.present.length) this.grow(id + 1);
    if (this.present[id] !== PRESENT) {
      this.present[id] = PRESENT;
      this.count++;
    }
    const at = id * FIELDS;
    this.counts[at] = state.healthy;
    this.counts[at + 1] = state.total;
    this.counts[at + 2] = state.load;
  }

  delete(service: string): boolean {
    const id = this.ids.find(service);
    if (id === undefined || this.present[id] !== PRESENT) return false;
    this.present[id] = ABSENT;
    this.count--;
    return true;
  }

  *keys(): IterableIterator<string> {
    const { present, ids } = this;
    for (let id = 0; id < present.length; id++) if (present[id] === PRESENT) yield ids.names[id]!;
  }

  *entries(): IterableIterator<[string, RemoteServiceState]> {
    const { present, ids, counts } = this;
    for (let id = 0; id < present.length; id++) {
      if (present[id] !== PRESENT) continue;
      const at = id * FIELDS;
      yield [ids.names[id]!, { healthy: counts[at]!, total: counts[at + 1]!, load: counts[at + 2]! }];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, RemoteServiceState]> {
    return this.entries();
  }

  // Room for `needed` ids, doubling (a full view sizes it once).
  private grow(needed: number): void {
    const capacity = Math.max(needed, this.present.length * 2, 64);
    const counts = new Uint32Array(capacity * FIELDS);
    counts.set(this.counts);
    const present = new Uint8Array(capacity);
    present.set(this.present);
    this.counts = counts;
    this.present = present;
  }
}
