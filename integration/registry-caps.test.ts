// The zone's registry caps and its discovery view at them, with real
// processes: etcd, the global controller, the fra zone controller and an edge
// in discovery mode. 1,000 instances of one service and 100 of another, each
// with labels at the caps (32 labels, 4,096 bytes), make a view of more than
// 4 MiB, a gRPC client's default message limit: the edge is shown to hold all
// of it; then each cap refuses one more, naming itself, and the zone goes on
// serving (a deregistration still reaches the edge).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { PartProcess, waitFor } from './harness/child-process';
import { findSample, readSamples } from '../test-support/metric-samples';
import { repoRoot } from '../test-support/repo-root';
import { freePort } from '../lib/process/free-port';
import { parseDocuments } from '../lib/resources';

const BULK = 1000; // the default instances-per-service cap
const ECHO = 100;
const ZONE_CAP = BULK + ECHO;
const GRPC_DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

// 32 labels of 8-byte keys and 120-byte values: 4,096 bytes, the default caps.
function maxLabels(i: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`label-${String(k).padStart(2, '0')}`, `${i}.`.padEnd(120, 'x')]));
}

// Checked by TCP every 30 s: the listeners below keep every instance healthy.
const service = (name: string) => ({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec: { healthCheck: { type: 'tcp', interval: '30s', timeout: '2s' } } });

interface EdgeView { version: number; services: Record<string, { instances?: { id: string }[] } | undefined> }

describe('registry caps and a discovery view larger than a gRPC message', () => {
  const cp = new ControlPlane();
  let fra: ZoneProcess;
  let edge: PartProcess;
  let edgeAdmin: string;
  const listeners: net.Server[] = [];

  async function edgeView(): Promise<EdgeView> {
    return (await (await fetch(`http://${edgeAdmin}/v1/view`, { signal: AbortSignal.timeout(10_000) })).json()) as EdgeView;
  }
  const instancesAtEdge = (v: EdgeView, s: string) => v.services[s]?.instances?.length ?? 0;

  // Registers, waiting out the rate cap (Retry-After) as a supervisor would.
  async function register(body: Record<string, unknown>): Promise<{ status: number; body: any; headers: Headers }> {
    for (;;) {
      const r = await fra.register(body);
      if (r.status !== 429 || r.body.cap !== 'requests-per-second') return r;
      await new Promise((resolve) => setTimeout(resolve, Number(r.headers.get('retry-after')) * 1000));
    }
  }

  async function refusals(cap: string): Promise<number> {
    const text = await (await fetch(`${fra.url}/metrics`)).text();
    return findSample(readSamples(text), 'meridian_zone_registry_refused_total', { cap })?.value ?? 0;
  }

  before(async () => {
    await cp.start(1);
    const docs = parseDocuments(fs.readFileSync(path.join(repoRoot(), 'examples', 'regions.yaml'), 'utf8'), 'regions.yaml');
    assert.equal((await cp.api('POST', '/v1/apply', [...docs, service('bulk'), service('echo')])).status, 200);
    // Only the zone cap is below its default, so that it is reached too; the
    // rate is raised so that filling the zone takes seconds, not half a minute.
    fra = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir, [
      '--registry-max-instances', String(ZONE_CAP), '--registry-rate', '200', '--registry-burst', '100',
    ]);
    fra.instanceToken = (await cp.instanceToken('fra', '*')).token;
    fra.start();
    await fra.waitUp(true);
    edgeAdmin = `127.0.0.1:${await freePort()}`;
    edge = new PartProcess('edge-fra', [
      'edge', '--mode', 'edge', '--region', 'fra', '--zone', fra.discoveryAddress, '--name', 'edge-fra',
      '--http', `127.0.0.1:${await freePort()}`, '--admin', edgeAdmin, '--access-log-sample', '0',
    ], cp.dir);
    edge.start();
    await waitFor('the edge to have its first view', async () => {
      if (!edge.running) throw new Error(`the edge exited:\n${edge.tail(20)}`);
      return (await edgeView().catch(() => undefined))?.services !== undefined;
    }, 30_000, 200);
    for (let i = 0; i < BULK; i++) {
      const server = net.createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      listeners.push(server);
    }
  });

  after(async () => {
    await edge?.stop();
    await fra?.stop();
    for (const l of listeners) l.close();
    await cp.stop();
  });

  it('the edge holds every instance of a zone filled to its caps with labels at theirs', async () => {
    assert.ok(ZONE_CAP * 4096 > GRPC_DEFAULT_MAX_MESSAGE, 'the labels alone are more than one gRPC message');
    const port = (i: number) => (listeners[i]!.address() as net.AddressInfo).port;
    const jobs = [
      ...Array.from({ length: BULK }, (_, i) => ({ id: `bulk-${i}`, service: 'bulk', address: '127.0.0.1', port: port(i), labels: maxLabels(i) })),
      ...Array.from({ length: ECHO }, (_, i) => ({ id: `echo-${i}`, service: 'echo', address: '127.0.0.1', port: port(i), labels: maxLabels(i) })),
    ];
    // Eight at a time, as a fleet of supervisors would.
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const r = await register(job);
        assert.equal(r.status, 201, `${job.id}: ${JSON.stringify(r.body)}`);
      }
    }));
    assert.equal((await fra.instances()).length, ZONE_CAP);

    const view = await waitFor('the edge to hold every instance, healthy', async () => {
      if (!edge.running) throw new Error(`the edge exited:\n${edge.tail(20)}`);
      const v = await edgeView();
      return instancesAtEdge(v, 'bulk') === BULK && instancesAtEdge(v, 'echo') === ECHO ? v : undefined;
    }, 180_000, 1000);
    assert.equal(instancesAtEdge(view, 'bulk'), BULK);
    assert.doesNotMatch(edge.tail(10_000), /RESOURCE_EXHAUSTED|larger than max/);

    // A new stream gets the whole view at once: the edge restarted.
    await edge.stop();
    edge.start();
    await waitFor('the restarted edge to hold every instance', async () => {
      if (!edge.running) throw new Error(`the edge exited:\n${edge.tail(20)}`);
      const v = await edgeView().catch(() => undefined);
      return v && instancesAtEdge(v, 'bulk') === BULK && instancesAtEdge(v, 'echo') === ECHO;
    }, 120_000, 500);
    assert.doesNotMatch(edge.tail(10_000), /RESOURCE_EXHAUSTED|larger than max/);
  });

  it('refuses one more instance, label or request than its caps, naming the cap, and stores nothing', async () => {
    const free = listeners[0]!.address() as net.AddressInfo;
    const expectRefusal = async (body: Record<string, unknown>, status: number, cap: string, limit: number) => {
      const before = await refusals(cap);
      const r = await register(body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.cap, cap);
      assert.equal(r.body.limit, limit);
      assert.match(r.body.error, new RegExp(`${limit}.*\\(${cap}\\)`));
      assert.equal(await refusals(cap), before + 1);
    };
    await expectRefusal({ service: 'bulk', address: '127.0.0.1', port: free.port + 1, labels: {} }, 429, 'instances-per-service', BULK);
    await expectRefusal({ service: 'echo', address: '127.0.0.1', port: free.port + 1 }, 429, 'instances-per-zone', ZONE_CAP);
    await expectRefusal({ id: 'bulk-0', service: 'bulk', address: '127.0.0.1', port: free.port, labels: { ...maxLabels(0), extra: '1' } }, 413, 'labels-per-instance', 32);
    // 'label-00' one byte longer: 4,097 bytes in all.
    await expectRefusal({ id: 'bulk-0', service: 'bulk', address: '127.0.0.1', port: free.port, labels: { ...maxLabels(0), 'label-00': 'y'.repeat(121) } }, 413, 'label-bytes-per-instance', 4096);
    await expectRefusal({ service: 'bulk', address: '127.0.0.1', port: free.port, labels: { v: 'y'.repeat(257) } }, 413, 'label-value-bytes', 256);
    await expectRefusal({ service: 'bulk', address: '127.0.0.1', port: free.port, labels: { ['k'.repeat(64)]: 'y' } }, 413, 'label-key-bytes', 63);
    assert.deepEqual(((await (await fetch(`${fra.url}/v1/instances/bulk-0`)).json()) as { labels: unknown }).labels, maxLabels(0), 'bulk-0 kept its labels');
    assert.equal((await fra.instances()).length, ZONE_CAP, 'nothing was added');

    // A token of its own, spent faster than 200 a second: refused with Retry-After.
    const token = (await cp.instanceToken('fra', 'echo')).token;
    const answers = await Promise.all(Array.from({ length: 600 }, () =>
      fetch(`${fra.url}/v1/instances/echo-0`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { cap?: string } })),
    ));
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length > 0, `600 requests at once, none refused: ${JSON.stringify(answers.map((a) => a.status).slice(0, 5))}`);
    assert.ok(limited.every((a) => a.body.cap === 'requests-per-second' && Number(a.retryAfter) >= 1));
    assert.ok(answers.filter((a) => a.status === 200).length >= 100, 'the burst was taken');
  });

  it('keeps serving: a deregistration reaches the edge, and room is made for one more', async () => {
    const h = await fra.health();
    assert.equal(h.ok, true);
    assert.equal((await fra.deregister('bulk-999')).status, 200);
    await waitFor('the edge to drop bulk-999', async () => {
      const v = await edgeView();
      return instancesAtEdge(v, 'bulk') === BULK - 1 && !v.services.bulk!.instances!.some((i) => i.id === 'bulk-999');
    }, 60_000, 500);
    const port = (listeners[999]!.address() as net.AddressInfo).port;
    assert.equal((await register({ id: 'bulk-999', service: 'bulk', address: '127.0.0.1', port, labels: maxLabels(999) })).status, 201);
    await waitFor('the edge to hold bulk-999 again', async () => instancesAtEdge(await edgeView(), 'bulk') === BULK, 60_000, 500);
  });
});
