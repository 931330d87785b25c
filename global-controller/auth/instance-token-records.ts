// What the mesh knows of the instance tokens it made: one record per token in
// etcd (never the token itself), for listing and revocation. The federation
// feed (../federation/instance-token-feed.ts) watches the records and tells
// every zone which ones are revoked.
import type { Etcd3 } from 'etcd3';
import { withTimeout } from '../../lib/util/with-timeout';

export const INSTANCE_TOKEN_RECORDS_PREFIX = '/meridian/instance-tokens/';

export interface InstanceTokenRecord {
  id: string;
  region: string;
  service: string; // a service name or "*"
  createdAt: string; // ISO 8601
  expiresAt: string;
  revokedAt?: string;
}

// Expired tokens are shown this long after their expiry, then forgotten.
const KEEP_EXPIRED_MS = 7 * 24 * 3600_000;
const REVOKE_ATTEMPTS = 5;

export class InstanceTokenRecords {
  constructor(private readonly etcd: Etcd3, private readonly timeoutMs = 2000) {}

  async create(record: InstanceTokenRecord): Promise<void> {
    const key = INSTANCE_TOKEN_RECORDS_PREFIX + record.id;
    const res = await this.run(this.etcd.if(key, 'Create', '==', 0).then(this.etcd.put(key).value(JSON.stringify(record))).commit());
    if (!res.succeeded) throw new Error(`an instance token with id ${record.id} already exists`);
    // Forget long-expired tokens now and then; a failure here costs nothing.
    void this.forgetExpired().catch(() => undefined);
  }

  async list(): Promise<InstanceTokenRecord[]> {
    const all = await this.run(this.etcd.getAll().prefix(INSTANCE_TOKEN_RECORDS_PREFIX).strings());
    return Object.values(all)
      .map((text) => parseInstanceTokenRecord(text))
      .filter((r): r is InstanceTokenRecord => !!r)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  // The record as revoked (unchanged when it already was), or undefined when
  // there is no such token. A concurrent change is retried.
  async revoke(id: string, now = Date.now()): Promise<InstanceTokenRecord | undefined> {
    const key = INSTANCE_TOKEN_RECORDS_PREFIX + id;
    for (let attempt = 0; attempt < REVOKE_ATTEMPTS; attempt++) {
      const res = await this.run(this.etcd.get(key).exec());
      const kv = res.kvs[0];
      const record = kv && parseInstanceTokenRecord(kv.value.toString('utf8'));
      if (!kv || !record) return undefined;
      if (record.revokedAt) return record;
      const revoked = { ...record, revokedAt: new Date(now).toISOString() };
      const put = await this.run(this.etcd.if(key, 'Mod', '==', kv.mod_revision).then(this.etcd.put(key).value(JSON.stringify(revoked))).commit());
      if (put.succeeded) return revoked;
    }
    throw new Error(`instance token ${id} kept changing while it was revoked; try again`);
  }

  private async forgetExpired(now = Date.now()): Promise<void> {
    for (const record of await this.list()) {
      if (Date.parse(record.expiresAt) + KEEP_EXPIRED_MS < now) await this.run(this.etcd.delete().key(INSTANCE_TOKEN_RECORDS_PREFIX + record.id).exec());
    }
  }

  private run<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.timeoutMs, 'etcd');
  }
}

export function parseInstanceTokenRecord(text: string): InstanceTokenRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<InstanceTokenRecord>;
    const ok = typeof r.id === 'string' && typeof r.region === 'string' && typeof r.service === 'string' &&
      typeof r.createdAt === 'string' && typeof r.expiresAt === 'string' && (r.revokedAt === undefined || typeof r.revokedAt === 'string');
    return ok ? (r as InstanceTokenRecord) : undefined;
  } catch {
    return undefined;
  }
}
