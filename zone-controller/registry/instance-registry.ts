// The instances of this region, as registered through the zone controller's
// HTTP API. Health is not persisted: after a restart every instance is
// unhealthy until the health checker has seen it pass again.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../lib/observability/logger';
import { canonicalAddress, type InstanceInput } from './instance-input';
import { InstanceFile, type JournalEntry, type StoredInstance } from './instance-file';

export interface Instance {
  readonly id: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
  // The instance's port for each named port of its Service other than the
  // first; absent when it names none.
  readonly ports?: Readonly<Record<string, number>>;
  // The id of the instance token that registered it (last), so the instances
  // of a revoked token can be found.
  readonly tokenId?: string;
  readonly healthy: boolean;
  readonly healthChangedAtMs: number;
}

export interface InstanceChange {
  type: 'registered' | 'updated' | 'deregistered' | 'health';
  instance: Instance;
}

export interface InstanceRegistryOptions {
  // Where instances are kept across restarts (and `<filePath>.journal`); in
  // memory only when absent.
  filePath?: string;
  logger?: Logger;
}

// Thrown by register() when the caller names an id that belongs to another endpoint.
export class InstanceIdConflictError extends Error {
  constructor(readonly id: string) {
    super(`instance '${id}' is already registered with another service, address or port`);
    this.name = 'InstanceIdConflictError';
  }
}

export class InstanceRegistry extends EventEmitter<{ change: [InstanceChange] }> {
  private readonly byId = new Map<string, Instance>();
  // Indexes, so registering and listing a service cost the same at 10 or 10,000 instances.
  private readonly byEndpoint = new Map<string, string>();
  private readonly byServiceIds = new Map<string, Set<string>>();
  private readonly file: InstanceFile | undefined;
  private readonly logger: Logger | undefined;
  private saving: Promise<void> | undefined;
  // Changes not yet on disk, in order.
  private pending: JournalEntry[] = [];
  private saveError: Error | undefined;

  constructor(options: InstanceRegistryOptions = {}) {
    super();
    this.logger = options.logger;
    if (options.filePath) {
      mkdirSync(dirname(options.filePath), { recursive: true });
      this.file = new InstanceFile(options.filePath, options.logger);
      this.load(this.file);
    }
  }

  // Idempotent: the same service, address and port return the instance that
  // is already there (its weight, labels and ports updated), so a supervisor that
  // re-registers after a restart does not create a duplicate.
  register(input: InstanceInput): Instance {
    const address = canonicalAddress(input.address);
    const weight = input.weight ?? 1;
    const labels = { ...input.labels };
    const ports = portsOf(input.ports);

    const existing = this.findEndpoint(input.service, address, input.port);
    if (existing) {
      if (existing.weight === weight && sameLabels(existing.labels, labels) && samePorts(existing.ports, ports) && existing.tokenId === input.tokenId) return existing;
      const updated = freeze(withToken(withPorts({ ...existing, weight, labels }, ports), input.tokenId));
      this.byId.set(updated.id, updated);
      this.changed({ type: 'updated', instance: updated }, true);
      return updated;
    }
    if (input.id !== undefined && this.byId.has(input.id)) throw new InstanceIdConflictError(input.id);

    const instance = freeze(withToken(withPorts({
      id: input.id ?? this.newId(input.service),
      service: input.service,
      address,
      port: input.port,
      weight,
      labels,
      healthy: false,
      healthChangedAtMs: Date.now(),
    }, ports), input.tokenId));
    this.add(instance);
    this.changed({ type: 'registered', instance }, true);
    return instance;
  }

  deregister(id: string): boolean {
    const instance = this.byId.get(id);
    if (!instance) return false;
    this.byId.delete(id);
    this.byEndpoint.delete(endpointKey(instance.service, instance.address, instance.port));
    const ids = this.byServiceIds.get(instance.service);
    ids?.delete(id);
    if (ids?.size === 0) this.byServiceIds.delete(instance.service);
    this.changed({ type: 'deregistered', instance }, true);
    return true;
  }

  get(id: string): Instance | undefined {
    return this.byId.get(id);
  }

  list(): Instance[] {
    return [...this.byId.values()];
  }

  // The instances of one service.
  ofService(service: string): Instance[] {
    const out: Instance[] = [];
    for (const id of this.byServiceIds.get(service) ?? []) out.push(this.byId.get(id)!);
    return out;
  }

  get size(): number {
    return this.byId.size;
  }

  // How many instances `service` has.
  serviceSize(service: string): number {
    return this.byServiceIds.get(service)?.size ?? 0;
  }

  // Whether register() with this endpoint would update an instance rather than add one.
  hasEndpoint(service: string, address: string, port: number): boolean {
    return this.findEndpoint(service, canonicalAddress(address), port) !== undefined;
  }

  // Returns whether the health changed; emits only then.
  setHealth(id: string, healthy: boolean): boolean {
    const instance = this.byId.get(id);
    if (!instance || instance.healthy === healthy) return false;
    const updated = freeze({ ...instance, healthy, healthChangedAtMs: Date.now() });
    this.byId.set(id, updated);
    this.changed({ type: 'health', instance: updated }, false);
    return true;
  }

  // Resolves once every change made so far is on disk; rejects with the error
  // of the last write if it failed. Resolves at once without a file.
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
    if (this.saveError) throw this.saveError;
  }

  private changed(change: InstanceChange, persist: boolean): void {
    if (persist) this.scheduleSave(change.type === 'deregistered' ? { del: change.instance.id } : { put: toStored(change.instance) });
    this.emit('change', change);
  }

  private findEndpoint(service: string, address: string, port: number): Instance | undefined {
    const id = this.byEndpoint.get(endpointKey(service, address, port));
    return id === undefined ? undefined : this.byId.get(id);
  }

  private add(instance: Instance): void {
    this.byId.set(instance.id, instance);
    this.byEndpoint.set(endpointKey(instance.service, instance.address, instance.port), instance.id);
    let ids = this.byServiceIds.get(instance.service);
    if (!ids) this.byServiceIds.set(instance.service, (ids = new Set()));
    ids.add(instance.id);
  }

  private newId(service: string): string {
    for (;;) {
      const id = `${service}-${randomBytes(4).toString('hex')}`;
      if (!this.byId.has(id)) return id;
    }
  }

  // Writes are serialized and coalesced: one write at a time, and the changes
  // made during a write go together in the next one.
  private scheduleSave(entry: JournalEntry): void {
    if (!this.file) return;
    this.pending.push(entry);
    if (!this.saving) this.saving = this.saveLoop(this.file);
  }

  private async saveLoop(file: InstanceFile): Promise<void> {
    try {
      while (this.pending.length) {
        const entries = this.pending;
        this.pending = [];
        try {
          await file.save(entries, () => this.list().map(toStored));
          this.saveError = undefined;
        } catch (err) {
          this.saveError = err as Error;
          this.logger?.error({ err, filePath: file.path }, 'could not save instances');
        }
      }
    } finally {
      this.saving = undefined;
    }
  }

  private load(file: InstanceFile): void {
    const result = file.load(validateStored);
    // Start empty rather than refuse to start: supervisors re-register.
    if (result.problem) this.logger?.error({ filePath: file.path, error: result.problem }, 'instance file is corrupt; starting with no instances');
    const now = Date.now();
    for (const stored of result.instances) {
      this.add(freeze(withPorts({ ...stored, labels: { ...stored.labels }, healthy: false, healthChangedAtMs: now }, portsOf(stored.ports))));
    }
    if (result.instances.length) this.logger?.info({ filePath: file.path, count: this.byId.size }, 'loaded instances');
  }
}

function endpointKey(service: string, address: string, port: number): string {
  return `${service} ${address} ${port}`;
}

function toStored(instance: Instance): StoredInstance {
  const { id, service, address, port, weight, labels, ports, tokenId } = instance;
  return withToken(withPorts({ id, service, address, port, weight, labels: { ...labels } }, ports && { ...ports }), tokenId);
}

// A copy of the ports, or undefined for none (an empty map is none).
function portsOf(ports: Readonly<Record<string, number>> | undefined): Record<string, number> | undefined {
  return ports === undefined || Object.keys(ports).length === 0 ? undefined : { ...ports };
}

// ports only when there are some, so instances without stay as they were.
function withPorts<T extends object>(value: T, ports: Readonly<Record<string, number>> | undefined): T & { ports?: Record<string, number> } {
  const { ports: _previous, ...rest } = value as T & { ports?: Record<string, number> };
  return (ports === undefined ? rest : { ...rest, ports }) as T & { ports?: Record<string, number> };
}

// tokenId only when there is one, so instances without stay as they were.
function withToken<T extends object>(value: T, tokenId: string | undefined): T & { tokenId?: string } {
  const { tokenId: _previous, ...rest } = value as T & { tokenId?: string };
  return (tokenId === undefined ? rest : { ...rest, tokenId }) as T & { tokenId?: string };
}

function validateStored(payload: unknown): string | undefined {
  const instances = (payload as { instances?: unknown } | null)?.instances;
  if (!Array.isArray(instances)) return 'instances must be an array';
  for (const [i, entry] of instances.entries()) {
    const s = entry as Partial<StoredInstance> | null;
    const ok =
      typeof s === 'object' && s !== null &&
      typeof s.id === 'string' && typeof s.service === 'string' && typeof s.address === 'string' &&
      typeof s.port === 'number' && typeof s.weight === 'number' &&
      typeof s.labels === 'object' && s.labels !== null &&
      (s.tokenId === undefined || typeof s.tokenId === 'string') &&
      (s.ports === undefined || (typeof s.ports === 'object' && s.ports !== null && Object.values(s.ports).every((p) => typeof p === 'number')));
    if (!ok) return `instances[${i}] is not a stored instance`;
  }
  return undefined;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function samePorts(a: Readonly<Record<string, number>> | undefined, b: Readonly<Record<string, number>> | undefined): boolean {
  const keys = Object.keys(a ?? {});
  return keys.length === Object.keys(b ?? {}).length && keys.every((k) => a![k] === b?.[k]);
}

// Instances are replaced, never mutated, so list() can hand out the stored objects.
function freeze(instance: Instance): Instance {
  Object.freeze(instance.labels);
  if (instance.ports) Object.freeze(instance.ports);
  return Object.freeze(instance);
}
