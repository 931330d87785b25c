import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EtcdProcess } from '../../lib/process/etcd-process';
import { testEtcdClient } from '../store/store-test-support';
import { JoinTokenError } from '../../lib/auth/join-tokens';
import { EXPIRED_RECORD_KEPT_MS, JoinTokenNotFound, JoinTokenRecords, partitionForPruning, spendRefusal, tokenState, type JoinTokenRecord } from './join-token-records';

const HOUR = 3600_000;
const record = (over: Partial<JoinTokenRecord> = {}): JoinTokenRecord => ({
  id: randomBytes(8).toString('hex'),
  region: 'fra',
  createdAtMs: Date.now(),
  expiresAtMs: Date.now() + HOUR,
  createdBy: 'test',
  ...over,
});

describe('join token records: states and refusals', () => {
  it('is unused, then used; revoked wins over used; expired when its time is up', () => {
    const now = Date.now();
    assert.equal(tokenState(record(), now), 'unused');
    assert.equal(tokenState(record({ usedAtMs: now, usedBy: 'fra-1' }), now), 'used');
    assert.equal(tokenState(record({ usedAtMs: now, revokedAtMs: now }), now), 'revoked');
    assert.equal(tokenState(record({ expiresAtMs: now - 1 }), now), 'expired');
  });

  it('refuses a second use, a revoked, unknown or expired token, saying what to do', () => {
    const claims = { id: 'abc', region: 'fra' };
    const used = record({ id: 'abc', usedAtMs: Date.parse('2026-12-07T10:00:00Z'), usedBy: 'fra-1a2b' });
    assert.equal(spendRefusal(used, claims), 'join token abc was already used at 2026-12-07T10:00:00.000Z by zone fra-1a2b; create a new one with meridian token create --region fra');
    assert.match(spendRefusal(record({ id: 'abc', revokedAtMs: Date.now() }), claims)!, /^join token abc was revoked at /);
    assert.match(spendRefusal(undefined, claims)!, /^join token abc has no record in this mesh \(made by an older global controller/);
    assert.match(spendRefusal(record({ id: 'abc', expiresAtMs: Date.now() - 1 }), claims)!, /^join token abc expired at /);
    assert.match(spendRefusal(record({ id: 'abc', region: 'iad' }), claims)!, /recorded for region 'iad', not 'fra'/);
    assert.equal(spendRefusal(record({ id: 'abc' }), claims), undefined);
    const spentFor = record({ id: 'abc', usedAtMs: Date.now(), usedBy: 'fra-1', usedByKey: 'sha256:aa' });
    assert.equal(spendRefusal(spentFor, claims, 'sha256:aa'), undefined, 'the key it was spent for may finish its join');
    assert.match(spendRefusal(spentFor, claims, 'sha256:bb')!, /already used/);
  });

  it('prunes records an hour after their token expired, not before', () => {
    const now = Date.now();
    const fresh = record();
    const justExpired = record({ expiresAtMs: now - 1 });
    const old = record({ expiresAtMs: now - EXPIRED_RECORD_KEPT_MS });
    const { keep, prune } = partitionForPruning([fresh, justExpired, old], now);
    assert.deepEqual(keep, [fresh, justExpired]);
    assert.deepEqual(prune, [old]);
  });
});

describe('join token records in etcd', () => {
  const etcd = new EtcdProcess();
  let records: JoinTokenRecords;
  let client: ReturnType<typeof testEtcdClient>;

  before(async () => {
    await etcd.start();
    client = testEtcdClient(etcd.endpoint);
    records = new JoinTokenRecords(client);
  });
  after(async () => {
    client?.close();
    await etcd.destroy();
  });

  it('lets exactly one of many concurrent uses of a token win', async () => {
    const r = record();
    await records.create(r);
    const claims = { id: r.id, region: 'fra', issuedAt: 0, expiresAt: r.expiresAtMs / 1000 };
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => records.spend(claims, `fra-${i}`, `sha256:${i}`)));
    const won = results.filter((x) => x.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const lost of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      assert.ok(lost.reason instanceof JoinTokenError, String(lost.reason));
      assert.match(lost.reason.message, new RegExp(`^join token ${r.id} was already used at .* by zone fra-\\d`));
    }
    const held = (await records.get(r.id))!.record;
    assert.equal(tokenState(held), 'used');
    await assert.rejects(records.check(claims, 'sha256:other'), /already used/);
  });

  it('lets the zone CA key a token was spent for finish its join again, and no other key', async () => {
    const r = record();
    await records.create(r);
    const claims = { id: r.id, region: 'fra', issuedAt: 0, expiresAt: r.expiresAtMs / 1000 };
    await records.spend(claims, 'fra-1', 'sha256:aa');
    const first = (await records.get(r.id))!.record;
    await records.check(claims, 'sha256:aa');
    await records.spend(claims, 'fra-2', 'sha256:aa');
    assert.deepEqual((await records.get(r.id))!.record, first, 'the first use stays on record');
    await assert.rejects(records.spend(claims, 'fra-3', 'sha256:bb'), /already used at .* by zone fra-1/);
  });

  it('revokes an unused or used token, and says when the id is unknown', async () => {
    const r = record();
    await records.create(r);
    const revoked = await records.revoke(r.id);
    assert.equal(tokenState(revoked), 'revoked');
    await assert.rejects(records.spend({ id: r.id, region: 'fra', issuedAt: 0, expiresAt: 0 }, 'fra-x', 'sha256:x'), /was revoked at/);
    await assert.rejects(records.revoke('ffffffffffffffff'), JoinTokenNotFound);
  });

  it('lists oldest first and deletes the long-expired records from etcd', async () => {
    const old = record({ createdAtMs: 1, expiresAtMs: Date.now() - 2 * HOUR });
    await records.create(old);
    const listed = await records.list();
    assert.equal(listed.some((x) => x.id === old.id), false);
    assert.equal(await records.get(old.id), undefined, 'gone from etcd');
    assert.ok(listed.every((x, i) => i === 0 || listed[i - 1]!.createdAtMs <= x.createdAtMs));
  });
});
