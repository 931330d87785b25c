// etcd stops and comes back: reads answer from the watch cache, writes answer
// 503, new zone sessions are refused with UNAVAILABLE while live ones go on,
// nothing crashes, and everything resumes without a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from './harness/global-controller-process';
import { FederationTestClient } from './harness/federation-test-client';
import { waitFor } from './harness/child-process';
import * as grpc from '@grpc/grpc-js';

describe('etcd outage', () => {
  const cp = new ControlPlane();
  before(() => cp.start(1));
  after(() => cp.stop());

  it('serves reads from the cache and refuses writes with 503 while etcd is down, then resumes', async () => {
    const doc = (name: string) => [{ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec: {} }];
    assert.equal((await cp.api('POST', '/v1/apply', doc('before-outage'))).status, 200);
    const token = await cp.token('fra');
    const iadToken = await cp.token('iad');
    const zone = new FederationTestClient(`127.0.0.1:${cp.primary.grpcPort}`);
    zone.open({ region: 'fra', joinToken: token });
    await zone.next((m) => m.message === 'snapshot');

    await cp.etcd.stop();
    const read = await cp.api('GET', '/v1/resources/services');
    assert.equal(read.status, 200, 'reads answer from the warm cache');
    assert.ok(read.body.items.some((s: { metadata: { name: string } }) => s.metadata.name === 'before-outage'));
    assert.equal((await cp.api('GET', '/v1/resources/services/before-outage')).status, 200);
    assert.equal((await cp.api('GET', '/v1/regions')).status, 200);

    const started = Date.now();
    const write = await cp.api('POST', '/v1/apply', doc('during-outage'));
    assert.equal(write.status, 503);
    assert.match(write.body.error, /unavailable/);
    assert.ok(write.headers.get('retry-after'));
    console.log(`# write refused with 503 in ${Date.now() - started} ms while etcd was down`);
    assert.equal((await cp.api('DELETE', '/v1/resources/services/before-outage')).status, 503);
    assert.equal((await cp.primary.health()).ok, true, 'the controller still serves');
    assert.ok(cp.primary.running);
    // A new zone cannot take its region's session meanwhile: refused, to retry.
    const newcomer = new FederationTestClient(`127.0.0.1:${cp.primary.grpcPort}`);
    newcomer.open({ region: 'iad', joinToken: iadToken });
    const refused = await newcomer.ended(15_000);
    newcomer.close();
    assert.equal(refused.code, grpc.status.UNAVAILABLE, refused.details);
    assert.equal(newcomer.received.length, 0);
    // Past the replica's session lease (10 s): the live stream must not end for it.
    await new Promise((r) => setTimeout(r, 11_000));

    await cp.etcd.start();
    const resumed = await waitFor('writes to resume', async () => {
      const res = await cp.api('POST', '/v1/apply', doc('after-outage'));
      return res.status === 200 ? res : undefined;
    }, 20_000, 250);
    assert.equal(resumed.status, 200);
    assert.equal((await cp.api('GET', '/v1/resources/services/after-outage')).status, 200);
    // The zone's stream carries on and gets the change made after the outage.
    const delta = await zone.next((m) => m.message === 'deltas' && m.deltas!.changes.some((c) => c.resource!.name === 'after-outage'), 15_000);
    assert.ok(delta);
    // Its session record is back (the lease lapsed during the outage), and the stream lives on.
    const fra = await waitFor('the fra session record', async () => {
      const res = await cp.api('GET', '/v1/zone-sessions');
      return res.status === 200 ? (res.body.sessions as { region: string; zoneId: string }[]).find((s) => s.region === 'fra') : undefined;
    }, 20_000, 250);
    assert.equal(fra.zoneId, 'test-zone');
    assert.equal(zone.status, undefined, 'the stream was not ended');
    zone.close();
    assert.ok(cp.primary.running, 'no restart was needed');
  });
});
