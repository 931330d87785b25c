// Two replicas on one etcd: one leads; kill it and the other takes over.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from './harness/global-controller-process';
import { waitFor } from './harness/child-process';

describe('leader failover', () => {
  const cp = new ControlPlane();
  before(() => cp.start(2));
  after(() => cp.stop());

  it('elects one leader; when it is killed, the other replica leads within seconds', async () => {
    const leaders = await waitFor('one leader', async () => {
      const hs = await Promise.all(cp.replicas.map((r) => r.health()));
      const l = hs.filter((h) => h.leader);
      return l.length === 1 ? l : undefined;
    });
    const leader = cp.replicas.find((r) => r.name === leaders[0]!.replica)!;
    const other = cp.replicas.find((r) => r !== leader)!;
    // Both replicas serve the API.
    for (const r of cp.replicas) assert.equal((await cp.api('GET', '/v1/resources/services', undefined, undefined, r)).status, 200);

    const killedAt = Date.now();
    await leader.stop('SIGKILL');
    await waitFor('the other replica to lead', async () => (await other.health()).leader, 20_000, 100);
    const took = Date.now() - killedAt;
    console.log(`# leader killed; ${other.name} led after ${took} ms (lease TTL 5 s)`);
    assert.ok(took < 15_000);
    // The new leader does the singleton work: writes still work through it.
    // A 503 with Retry-After is the store's answer to a transient etcd
    // failure (etcd is slow to answer on a loaded machine): a client tries
    // again after it.
    const apply = () => cp.api('POST', '/v1/apply', [{ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'after-failover' }, spec: {} }], undefined, other);
    let res = await apply();
    for (let i = 0; i < 3 && res.status === 503 && res.headers.get('retry-after') !== null; i++) {
      console.log(`# apply through the new leader: 503 (${JSON.stringify(res.body)}); again after Retry-After`);
      await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after')) * 1000));
      res = await apply();
    }
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});
