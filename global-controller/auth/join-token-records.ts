// What etcd holds about each join token, so that a token buys one join:
// `/meridian/system/join-tokens/<id>` = region, when it was made and when it
// expires, who made it, and once it happens when and by which zone it was
// used or when it was revoked. Never the token itself: the record cannot be
// turned back into a token. Spending is a transaction on the record's mod
// revision, so of two zones racing with one token only one wins.
import type { Etcd3 } from 'etcd3';
import { withTimeout } from '../../lib/util/with-timeout';
import { JoinTokenError, type JoinTokenClaims } from '../../lib/auth/join-tokens';

const PREFIX = '/meridian/system/join-tokens/';
// A record stays listed this long after its token expired, then goes.
export const EXPIRED_RECORD_KEPT_MS = 3600_000;
// Unexpired tokens at once: every one is a record in etcd.
export const MAX_LIVE_TOKENS = 1000;

export interface JoinTokenRecord {
  id: string;
  region: string;
  createdAtMs: number;
  expiresAtMs: number;
  createdBy: string;
  usedAtMs?: number;
  usedBy?: string;
  // "sha256:<hex>" of the zone CA key the token was spent for.
  usedByKey?: string;
  revokedAtMs?: number;
}

export type JoinTokenState = 'unused' | 'used' | 'revoked' | 'expired';

export function tokenState(r: JoinTokenRecord, now = Date.now()): JoinTokenState {
  if (r.revokedAtMs !== undefined) return 'revoked';
  if (r.usedAtMs !== undefined) return 'used';
  return r.expiresAtMs <= now ? 'expired' : 'unused';
}

// Why a zone may not join with this token, or undefined when it may. The
// zone CA key the token was spent for may finish its join again (its stream
// broke before Welcome brought the zone CA): only the holder of that key can
// send a CSR for it, so no other zone gets in that way.
export function spendRefusal(r: JoinTokenRecord | undefined, claims: Pick<JoinTokenClaims, 'id' | 'region'>, key?: string, now = Date.now()): string | undefined {
  const again = `create a new one with meridian token create --region ${claims.region}`;
  if (!r) return `join token ${claims.id || '(no id)'} has no record in this mesh (made by an older global controller, or its record was pruned); ${again}`;
  if (r.region !== claims.region) return `join token ${r.id} is recorded for region '${r.region}', not '${claims.region}'; ${again}`;
  switch (tokenState(r, now)) {
    case 'revoked':
      return `join token ${r.id} was revoked at ${iso(r.revokedAtMs!)}; ${again}`;
    case 'used':
      if (key !== undefined && r.usedByKey === key) return undefined;
      return `join token ${r.id} was already used at ${iso(r.usedAtMs!)} by zone ${r.usedBy}; ${again}`;
    case 'expired':
      return `join token ${r.id} expired at ${iso(r.expiresAtMs)}; ${again}`;
    default:
      return undefined;
  }
}

// The records a list shows and the ones to delete: expired ones go once
// they have been listed as expired for EXPIRED_RECORD_KEPT_MS.
export function partitionForPruning(records: JoinTokenRecord[], now = Date.now()): { keep: JoinTokenRecord[]; prune: JoinTokenRecord[] } {
  const keep: JoinTokenRecord[] = [];
  const prune: JoinTokenRecord[] = [];
  for (const r of records) (r.expiresAtMs + EXPIRED_RECORD_KEPT_MS <= now ? prune : keep).push(r);
  return { keep, prune };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class JoinTokenNotFound extends Error {}

export class JoinTokenRecords {
  constructor(private readonly etcd: Etcd3, private readonly timeoutMs = 2000) {}

  // Written before the token is handed out; refuses when MAX_LIVE_TOKENS are live.
  async create(record: JoinTokenRecord): Promise<void> {
    const live = (await this.list()).filter((r) => r.expiresAtMs > Date.now());
    if (live.length >= MAX_LIVE_TOKENS) throw new JoinTokenLimit(`${live.length} join tokens are unexpired (at most ${MAX_LIVE_TOKENS}); revoke some with meridian token revoke ID`);
    await this.call(this.etcd.if(PREFIX + record.id, 'Create', '==', 0).then(this.etcd.put(PREFIX + record.id).value(JSON.stringify(record))).commit());
  }

  // Every record, oldest first, after deleting the long-expired ones.
  async list(now = Date.now()): Promise<JoinTokenRecord[]> {
    const raw = await this.call(this.etcd.getAll().prefix(PREFIX).strings());
    const records: JoinTokenRecord[] = [];
    for (const value of Object.values(raw)) {
      try {
        records.push(JSON.parse(value) as JoinTokenRecord);
      } catch {
        // An unreadable record cannot vouch for a token: it is left out.
      }
    }
    const { keep, prune } = partitionForPruning(records, now);
    if (prune.length) await this.call(Promise.all(prune.map((r) => this.etcd.delete().key(PREFIX + r.id).exec()))).catch(() => undefined);
    return keep.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<{ record: JoinTokenRecord; modRevision: string } | undefined> {
    const res = await this.call(this.etcd.get(PREFIX + id).exec());
    const kv = res.kvs[0];
    if (!kv) return undefined;
    try {
      return { record: JSON.parse(kv.value.toString()) as JoinTokenRecord, modRevision: kv.mod_revision };
    } catch {
      return undefined;
    }
  }

  // Throws JoinTokenError with the reason when the token may not be spent
  // (checked before the zone's session is claimed, so a spent token is the
  // refusal a second zone sees).
  async check(claims: JoinTokenClaims, key: string): Promise<void> {
    const refusal = spendRefusal((await this.get(claims.id))?.record, claims, key);
    if (refusal) throw new JoinTokenError(refusal);
  }

  // Marks the token used by `zoneId` for the zone CA key `key`. Throws
  // JoinTokenError when it is not spendable, also when another zone spent it
  // a moment before.
  async spend(claims: JoinTokenClaims, zoneId: string, key: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await this.get(claims.id);
      const refusal = spendRefusal(held?.record, claims, key);
      if (refusal) throw new JoinTokenError(refusal);
      // Spent before for this key: the first use stays on record.
      if (held!.record.usedByKey === key) return;
      const used: JoinTokenRecord = { ...held!.record, usedAtMs: Date.now(), usedBy: zoneId, usedByKey: key };
      const recordKey = PREFIX + claims.id;
      const txn = await this.call(this.etcd.if(recordKey, 'Mod', '==', held!.modRevision).then(this.etcd.put(recordKey).value(JSON.stringify(used))).commit());
      if (txn.succeeded) return;
    }
    throw new Error(`join token ${claims.id} changed under every attempt to spend it`);
  }

  // Revoked whatever its state; JoinTokenNotFound for an unknown id.
  async revoke(id: string): Promise<JoinTokenRecord> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await this.get(id);
      if (!held) throw new JoinTokenNotFound(`no join token ${id} (unknown, or expired and pruned)`);
      if (held.record.revokedAtMs !== undefined) return held.record;
      const revoked: JoinTokenRecord = { ...held.record, revokedAtMs: Date.now() };
      const key = PREFIX + id;
      const txn = await this.call(this.etcd.if(key, 'Mod', '==', held.modRevision).then(this.etcd.put(key).value(JSON.stringify(revoked))).commit());
      if (txn.succeeded) return revoked;
    }
    throw new Error(`join token ${id} changed under every attempt to revoke it`);
  }

  private call<T>(p: Promise<T>): Promise<T> {
    return withTimeout(p, this.timeoutMs, 'etcd');
  }
}

export class JoinTokenLimit extends Error {}
