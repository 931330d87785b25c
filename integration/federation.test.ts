// The federation stream, driven message by message with a grpc-js client
// against a real global controller process on a real etcd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { ControlPlane, READ_TOKEN } from './harness/global-controller-process';
import { FederationTestClient } from './harness/federation-test-client';
import { waitFor } from './harness/child-process';
import { testZoneCaKey, type TestZoneCaKey } from './harness/zone-ca-key';

const service = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'meridian.dev/v1',
  kind: 'Service',
  metadata: { name },
  spec: { ...extra },
});

describe('federation stream', () => {
  const cp = new ControlPlane();
  const clients: FederationTestClient[] = [];
  let rootsPem: string[] = [];
  // One zone CA key for fra throughout: each join is the same zone coming back
  // (a join token is good for one join, so every join here makes its own).
  let fraKey: TestZoneCaKey;
  const client = () => {
    const c = new FederationTestClient(`127.0.0.1:${cp.primary.grpcPort}`, { rootsPem });
    clients.push(c);
    return c;
  };

  before(async () => {
    await cp.start(1);
    const res = await cp.api('POST', '/v1/apply', [
      { apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name: 'fra' }, spec: { location: { latitude: 50.11, longitude: 8.68 } } },
      service('echo'),
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    rootsPem = (await cp.api('GET', '/v1/ca')).body.trustBundle;
    fraKey = await testZoneCaKey('fra');
  });

  after(async () => {
    for (const c of clients) c.close();
    await cp.stop();
  });

  it('sends a full snapshot on connect, then every apply as a delta', async () => {
    const zone = client();
    zone.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken: await cp.token('fra') });
    const welcome = await zone.next((m) => m.message === 'welcome');
    assert.equal(welcome.welcome!.region, 'fra');
    const snap = await zone.next((m) => m.message === 'snapshot');
    const names = snap.snapshot!.resources.map((r) => `${r.kind}/${r.name}`).sort();
    assert.deepEqual(names, ['Region/fra', 'Service/echo']);
    const echo = JSON.parse(snap.snapshot!.resources.find((r) => r.name === 'echo')!.document.toString());
    assert.equal(echo.spec.healthCheck.type, 'http', 'the snapshot carries normalized documents');
    zone.send({ ack: { version: snap.snapshot!.version } });

    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await cp.api('POST', '/v1/apply', [service(`api-${i}`)]);
      assert.equal(res.status, 200);
      const delta = await zone.next((m) => m.message === 'deltas');
      delays.push(delta.at - started);
      assert.equal(delta.deltas!.version, res.body.revision);
      assert.deepEqual(delta.deltas!.changes.map((c) => [c.op, c.resource!.name]), [['PUT', `api-${i}`]]);
      zone.send({ ack: { version: delta.deltas!.version } });
    }
    delays.sort((a, b) => a - b);
    console.log(`# apply -> delta at the zone: median ${delays[2]} ms, max ${delays[4]} ms (target under 100 ms)`);

    // The acked version shows in the global view.
    const acked = await waitFor('acked version in /v1/regions', async () => {
      const view = await cp.api('GET', '/v1/regions');
      const fra = view.body.regions.find((r: { region: string }) => r.region === 'fra');
      return fra.ackedVersion > 0 && fra.online ? fra : undefined;
    });
    assert.ok(acked.ackedVersion >= snap.snapshot!.version);
    zone.close();
  });

  it('after a disconnect, sends exactly the changes since the version the zone holds', async () => {
    const first = client();
    first.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken: await cp.token('fra') });
    const snap = await first.next((m) => m.message === 'snapshot');
    const held = snap.snapshot!.version;
    first.close();

    await cp.api('POST', '/v1/apply', [service('while-away-1')]);
    await cp.api('DELETE', '/v1/resources/services/api-0');

    const again = client();
    again.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken: await cp.token('fra'), lastAppliedVersion: held });
    const changes: string[] = [];
    let version = held;
    while (changes.length < 2) {
      const d = await again.next((m) => m.message === 'deltas' || m.message === 'snapshot');
      assert.equal(d.message, 'deltas', 'a zone with a recent version gets deltas, not a snapshot');
      assert.equal(d.deltas!.fromVersion, version);
      version = d.deltas!.version;
      changes.push(...d.deltas!.changes.map((c) => `${c.op} ${c.resource!.kind}/${c.resource!.name}`));
    }
    assert.deepEqual(changes, ['PUT Service/while-away-1', 'DELETE Service/api-0']);
    // Nothing else follows.
    await assert.rejects(again.next((m) => m.message === 'deltas' || m.message === 'snapshot', 500));
    again.close();
  });

  it('sends a full snapshot to a zone whose version etcd has compacted', async () => {
    const first = client();
    first.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken: await cp.token('fra') });
    const old = (await first.next((m) => m.message === 'snapshot')).snapshot!.version;
    first.close();
    const res = await cp.api('POST', '/v1/apply', [service('after-compaction')]);
    execFileSync('etcdctl', ['--endpoints', cp.etcd.endpoint, 'compact', String(res.body.revision)], { env: { ...process.env, ETCDCTL_API: '3' } });

    const again = client();
    again.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken: await cp.token('fra'), lastAppliedVersion: old });
    const msg = await again.next((m) => m.message === 'deltas' || m.message === 'snapshot');
    assert.equal(msg.message, 'snapshot');
    assert.ok(msg.snapshot!.resources.some((r) => r.name === 'after-compaction'));
    assert.ok(msg.snapshot!.version >= res.body.revision);
    again.close();
  });

  it('refuses wrong, expired and other-region join tokens with UNAUTHENTICATED', async () => {
    const cases: [string, string][] = [
      ['a token that is not one', 'not-a-token'],
      ['a forged signature', (await cp.token('fra')).replace(/.{4}$/, 'AAAA')],
      ['a token for another region', await cp.token('iad')],
    ];
    const expiring = await cp.token('fra', '1s');
    await new Promise((r) => setTimeout(r, 1500));
    cases.push(['an expired token', expiring]);
    for (const [what, joinToken] of cases) {
      const zone = client();
      zone.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken });
      const status = await zone.ended();
      assert.equal(status.code, grpc.status.UNAUTHENTICATED, `${what}: ${status.details}`);
      assert.equal(zone.received.length, 0, `${what}: nothing is sent before the token is checked`);
      zone.close();
    }
  });

  it('merges zone reports into the global view and marks a silent zone offline after three heartbeats', async () => {
    const zone = client();
    zone.open({ region: 'fra', zoneCaCsr: fraKey.csr, joinToken: await cp.token('fra') });
    await zone.next((m) => m.message === 'snapshot');
    zone.send({
      report: {
        region: 'fra',
        ingressAddress: '127.0.0.1:7603',
        dnsAddress: '127.0.0.1:5353',
        instances: [
          { id: 'a', service: 'echo', address: '127.0.0.1', port: 9001, weight: 1, healthy: true },
          { id: 'b', service: 'echo', address: '127.0.0.1', port: 9002, weight: 1, healthy: false },
        ],
      },
    });
    const silentSince = Date.now();
    const fra = await waitFor('report in the view', async () => {
      const view = await cp.api('GET', '/v1/regions', undefined, READ_TOKEN);
      const r = view.body.regions.find((x: { region: string }) => x.region === 'fra');
      return r?.services?.length ? r : undefined;
    });
    assert.equal(fra.online, true);
    assert.deepEqual(fra.services, [{ service: 'echo', healthy: 1, total: 2 }]);
    assert.equal(fra.ingressAddress, '127.0.0.1:7603');

    // The view is pushed down the stream too.
    const pushed = await zone.next((m) => m.message === 'regions' && m.regions!.regions.some((r) => r.region === 'fra' && r.services.length > 0));
    assert.equal(pushed.regions!.regions.find((r) => r.region === 'fra')!.ingressAddress, '127.0.0.1:7603');

    // Silence since the report: no heartbeat for more than three intervals (1 s each).
    const offline = await waitFor('zone offline', async () => {
      const view = await cp.api('GET', '/v1/regions');
      const r = view.body.regions.find((x: { region: string }) => x.region === 'fra');
      return r.online === false ? r : undefined;
    }, 10_000, 100);
    const took = Date.now() - silentSince;
    console.log(`# silent zone shown offline after ${took} ms (three heartbeats of 1000 ms)`);
    assert.ok(took >= 2500, `offline too early: ${took} ms`);
    assert.equal(offline.services[0].total, 2, 'the last report is kept');
    zone.close();
  });
});
