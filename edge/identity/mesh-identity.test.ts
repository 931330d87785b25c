import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../lib/observability/logger';
import { issueLeaf, parseCsr, publicKeyPemOf, rotationDueAt } from '../../lib/pki';
import { makeRoot, makeZone, TD, type Zone } from '../../test-support/pki-fixtures';
import { IssueError, type IssuedLeaf } from './certificate-client';
import { MeshIdentity, type LeafSource, type MeshCredentials } from './mesh-identity';

const logger = createLogger('test');
logger.level = 'silent';

// An in-memory zone: signs with a real zone CA, can be told to fail.
class TestZone implements LeafSource {
  csrs: string[] = [];
  failNext = 0;
  refuse: IssueError | undefined;
  constructor(
    private readonly zone: Zone,
    private readonly lifetimeMs: number,
  ) {}

  async describe(proxy: string, mode: 'edge' | 'ingress'): Promise<{ identity: string }> {
    if (this.refuse) throw this.refuse;
    return { identity: `spiffe://${TD}/region/${this.zone.region}/${mode}/${proxy}` };
  }

  async issue(_proxy: string, csrPem: string): Promise<IssuedLeaf> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new IssueError(grpc.status.UNAVAILABLE, 'zone away');
    }
    this.csrs.push(csrPem);
    const leaf = issueLeaf({ caCertPem: this.zone.certPem, caKeyPem: this.zone.keyPem, csrPem, allowedRegion: this.zone.region, trustDomain: TD, lifetimeMs: this.lifetimeMs });
    return { chainPem: leaf.certPem + this.zone.certPem, trustBundle: [this.zone.root.certPem], identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter };
  }
}

describe('MeshIdentity', () => {
  const zone = makeZone(makeRoot(), 'fra');

  it('gets a leaf at start for a key made here, retrying while the zone is away', async () => {
    const source = new TestZone(zone, 60_000);
    source.failNext = 2;
    const identity = new MeshIdentity(source, { proxy: 'edge-fra', mode: 'edge', minRetryMs: 10 }, logger);
    const first = await identity.start();
    identity.stop();
    assert.equal(first.identity, `spiffe://${TD}/region/fra/edge/edge-fra`);
    assert.equal(source.csrs.length, 1);
    assert.equal(parseCsr(source.csrs[0]!).publicKeyPem, publicKeyPemOf(first.keyPem), 'the CSR carries the key kept in memory');
    assert.deepEqual(first.trustBundle, [zone.root.certPem]);
  });

  it('renews at two thirds of the life with a new key, and says so', async (t) => {
    // Controlled time: the renewal is due 40 s into a 60 s leaf, and nothing
    // is asked of the zone a millisecond before.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
    const source = new TestZone(zone, 60_000);
    const identity = new MeshIdentity(source, { proxy: 'ingress-fra', mode: 'ingress' }, logger);
    try {
      const first = await identity.start();
      const dueMs = rotationDueAt(first.chainPem).getTime() - Date.now();
      assert.ok(Math.abs(dueMs - 40_000) <= 1_000, `due ${dueMs} ms into a 60 s leaf`);
      const renewed = once(identity, 'renewed') as Promise<[MeshCredentials]>;
      t.mock.timers.tick(dueMs - 1);
      await new Promise((r) => setImmediate(r));
      assert.equal(source.csrs.length, 1, 'not renewed before it is due');
      t.mock.timers.tick(1);
      const [next] = await renewed;
      assert.equal(source.csrs.length, 2);
      assert.notEqual(next.serial, first.serial);
      assert.notEqual(next.keyPem, first.keyPem, 'a new key per leaf');
      assert.equal(identity.current, next);
      assert.equal(identity.renewals, 1);
    } finally {
      identity.stop();
    }
  });

  it('fails at start on a final refusal (a zone without a CA), with its reason', async () => {
    const source = new TestZone(zone, 60_000);
    source.refuse = new IssueError(grpc.status.FAILED_PRECONDITION, 'this zone controller has no CA');
    const identity = new MeshIdentity(source, { proxy: 'edge-fra', mode: 'edge', minRetryMs: 10 }, logger);
    await assert.rejects(identity.start(), /no CA/);
  });
});
