// The instances of this region, as registered through the zone controller's
// HTTP API. Health is not persisted: after a restart every instance is
// unhealthy until the health checker has seen it pass again.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../lib/observability/logger';
import { readJsonFile, writeJsonFile } from '../state/atomic-file';
import { canonicalAddress, type InstanceInput } from './instance-input';

export interface Instance {
  readonly id: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly healthy: boolean;
  readonly healthChangedAtMs: number;
}

export interface InstanceChange {
  type: 'registered' | 'updated' | 'deregistered' | 'health';
  instance: Instance;
}

export interface InstanceRegistryOptions {
  // Where instances are kept across restarts; in memory only when absent.
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

// What is stored on disk: the registration, without health.
interface StoredInstance {
  id: string;
  service: string;
  address: string;
  port: number;
  weight: number;
  labels: Record<string, string>;
}

export class InstanceRegistry extends EventEmitter<{ change: [InstanceChange] }> {
  private readonly byId = new Map<string, Instance>();
  private readonly filePath: string | undefined;
  private readonly logger: Logger | undefined;
  private saving: Promise<void> | undefined;
  private dirty = false;
  private saveError: Error | undefined;

  constructor(options: InstanceRegistryOptions = {}) {
    super();
    this.filePath = options.filePath;
    this.logger = options.logger;
    if (this.filePath) {
      mkdirSync(dirname(this.filePath), { recursive: true });
      this.load(this.filePath);
    }
  }

  // Idempotent: the same service, address and port return the instance that
  // is already there (its weight and labels updated), so a supervisor that
  // re-registers after a restart does not create a duplicate.
  register(input: InstanceInput): Instance {
    const address = canonicalAddress(input.address);
    const weight = input.weight ?? 1;
    const labels = { ...input.labels };

    const existing = this.findEndpoint(input.service, address, input.port);
    if (existing) {
      if (existing.weight === weight && sameLabels(existing.labels, labels)) return existing;
      const updated = freeze({ ...existing, weight, labels });
      this.byId.set(updated.id, updated);
      this.changed({ type: 'updated', instance: updated }, true);
      return updated;
    }
    if (input.id !== undefined && this.byId.has(input.id)) throw new InstanceIdConflictError(input.id);

    const instance = freeze({
      id: input.id ?? this.newId(input.service),
      service: input.service,
      address,
      port: input.port,
      weight,
      labels,
      healthy: false,
      healthChangedAtMs: Date.now(),
    });
    this.byId.set(instance.id, instance);
    this.changed({ type: 'registered', instance }, true);
    return instance;
  }

  deregister(id: string): boolean {
    const instance = this.byId.get(id);
    if (!instance) return false;
    this.byId.delete(id);
    this.changed({ type: 'deregistered', instance }, true);
    return true;
  }

  get(id: string): Instance | undefined {
    return this.byId.get(id);
  }

  list(): Instance[] {
    return [...this.byId.values()];
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
    if (persist) this.scheduleSave();
    this.emit('change', change);
  }

  private findEndpoint(service: string, address: string, port: number): Instance | undefined {
    for (const instance of this.byId.values()) {
      if (instance.port === port && instance.address === address && instance.service === service) return instance;
    }
    return undefined;
  }

  private newId(service: string): string {
    for (;;) {
      const id = `${service}-${randomBytes(4).toString('hex')}`;
      if (!this.byId.has(id)) return id;
    }
  }

  // Writes are serialized and coalesced: one write at a time, and a burst of
  // changes during a write costs one more write, not one per change.
  private scheduleSave(): void {
    if (!this.filePath) return;
    this.dirty = true;
    if (!this.saving) this.saving = this.saveLoop(this.filePath);
  }

  private async saveLoop(filePath: string): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        try {
          await writeJsonFile(filePath, { instances: this.list().map(toStored) });
          this.saveError = undefined;
        } catch (err) {
          this.saveError = err as Error;
          this.logger?.error({ err, filePath }, 'could not save instances');
        }
      }
    } finally {
      this.saving = undefined;
    }
  }

  private load(filePath: string): void {
    const result = readJsonFile<{ instances: StoredInstance[] }>(filePath, validateStored);
    if (!result.ok) {
      if (result.reason === 'corrupt') {
        // Start empty rather than refuse to start: supervisors re-register.
        this.logger?.error({ filePath, error: result.error }, 'instance file is corrupt; starting with no instances');
      }
      return;
    }
    const now = Date.now();
    for (const stored of result.value.instances) {
      this.byId.set(stored.id, freeze({ ...stored, labels: { ...stored.labels }, healthy: false, healthChangedAtMs: now }));
    }
    this.logger?.info({ filePath, count: this.byId.size }, 'loaded instances');
  }
}

function toStored(instance: Instance): StoredInstance {
  const { id, service, address, port, weight, labels } = instance;
  return { id, service, address, port, weight, labels: { ...labels } };
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
      typeof s.labels === 'object' && s.labels !== null;
    if (!ok) return `instances[${i}] is not a stored instance`;
  }
  return undefined;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

// Instances are replaced, never mutated, so list() can hand out the stored objects.
function freeze(instance: Instance): Instance {
  Object.freeze(instance.labels);
  return Object.freeze(instance);
}
