// A zone controller process against a real global controller on real etcd:
// the global controller goes away and the zone keeps serving; a restarted
// zone serves from its snapshot file; a corrupt file is survived; churn is
// batched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { DiscoveryTestClient } from './harness/discovery-test-client';
import { dnsQuery } from './harness/dns-query';
import { PartProcess, waitFor } from './harness/child-process';
import { freePort } from '../lib/process/free-port';
import { MERIDIAN_BIN, repoRoot } from '../test-support/repo-root';
import { findSample, readSamples } from '../test-support/metric-samples';
import { execFile } from 'node:child_process';
import { createEchoServer } from '../cli/echo-server';
import { parseDocuments } from '../lib/resources';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MERIDIAN_BIN(), ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function metric(url: string, name: string): Promise<number> {
  return findSample(readSamples(await (await fetch(`${url}/metrics`)).text()), name)?.value ?? 0;
}

describe('zone controller', () => {
  const cp = new ControlPlane();
  let zone: ZoneProcess;
  let echo: http.Server;
  let echoPort: number;

  before(async () => {
    await cp.start(1);
    const docs = ['regions.yaml', 'echo.yaml'].flatMap((f) => parseDocuments(fs.readFileSync(path.join(repoRoot(), 'examples', f), 'utf8'), f));
    assert.equal((await cp.api('POST', '/v1/apply', docs)).status, 200);
    echo = createEchoServer({ host: '127.0.0.1', port: 0, service: 'echo', region: 'fra', instance: 'echo-1' });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as { port: number }).port;
    zone = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir);
    zone.instanceToken = (await cp.instanceToken('fra', 'echo')).token;
    zone.start();
    await zone.waitUp(true);
  });

  // Each part may be missing when before() failed half way; etcd must still stop.
  after(async () => {
    await zone?.stop();
    echo?.close();
    await cp.stop();
  });

  it('registers instances, refusing bad ones with the field named, and checks their health', async () => {
    const bad = await zone.register({ service: 'nope', address: '127.0.0.1', port: 1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'service');
    const badPort = await zone.register({ service: 'echo', address: '127.0.0.1', port: 70000 });
    assert.equal(badPort.body.field, 'port');
    const missing = await zone.register({ service: 'echo', port: 80 });
    assert.equal(missing.body.field, 'address');
    // `meridian register` wraps the same API.
    const cliBad = await cli(['register', '--zone', zone.url, '--token', zone.instanceToken!, '--service', 'nope', '--address', '127.0.0.1', '--port', '80']);
    assert.equal(cliBad.code, 1);
    assert.match(cliBad.stderr.trim(), /^error: the zone controller refused: service: unknown service 'nope'/);
    const ok = await cli(['register', '--zone', zone.url, '--token', zone.instanceToken!, '--id', 'echo-1', '--service', 'echo', '--address', '127.0.0.1', '--port', String(echoPort), '--ports', 'admin=9101']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^instance\/echo-1 registered/);
    assert.deepEqual((await zone.instances()).find((i) => i.id === 'echo-1')?.ports, { admin: 9101 });
    const badPorts = await zone.register({ service: 'echo', address: '127.0.0.1', port: echoPort, ports: { admin: 70000 } });
    assert.equal(badPorts.status, 400);
    assert.equal(badPorts.body.error, 'ports.admin: must be an integer from 1 to 65535');
    await waitFor('echo-1 healthy', async () => (await zone.instances()).find((i) => i.id === 'echo-1')?.healthy || undefined);
    // An instance that never answers never becomes healthy.
    const dead = await zone.register({ id: 'dead', service: 'echo', address: '127.0.0.1', port: 1 });
    assert.equal(dead.status, 201);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await zone.instances()).find((i) => i.id === 'dead')?.healthy, false);
    const gone = await new Promise<{ code: number; stderr: string }>((resolve) => {
      // The token from the environment, as a supervisor would pass it.
      execFile(process.execPath, [MERIDIAN_BIN(), 'deregister', '--zone', zone.url, 'dead'], { timeout: 20_000, env: { ...process.env, MERIDIAN_INSTANCE_TOKEN: zone.instanceToken } }, (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal((await zone.instances()).some((i) => i.id === 'dead'), false);
  });

  // How many reports a burst becomes depends on how fast the changes come
  // (report-coalescer.test.ts holds the window); here: they all arrive.
  it('batches churn: a burst of registry changes reaches the global controller', async (t) => {
    const before = await metric(cp.primary.url, 'meridian_federation_reports_total');
    for (let i = 0; i < 50; i++) {
      const r = await zone.register({ id: `flap`, service: 'echo', address: '127.0.0.2', port: 9999 });
      assert.equal(r.status, 201);
      assert.equal((await zone.deregister('flap')).status, 200);
    }
    await waitFor('a report after the burst', async () => (await metric(cp.primary.url, 'meridian_federation_reports_total')) > before || undefined, 30_000, 50);
    await waitFor('flap gone from the zone', async () => !(await zone.instances()).some((i) => i.id === 'flap') || undefined, 30_000, 50);
    const sent = (await metric(cp.primary.url, 'meridian_federation_reports_total')) - before;
    t.diagnostic(`100 registry changes in a burst reached the global controller as ${sent} reports`);
    assert.ok(sent <= 100, `${sent} reports for 100 changes`);
  });

  it('answers echo.mesh with the mesh listener addresses its edges report, NODATA while none does', async () => {
    const addresses = async (type: 'A' | 'AAAA') => {
      const answer = await dnsQuery('127.0.0.1', zone.ports.dns, 'echo.mesh', type);
      assert.equal(answer.rcode, 'NOERROR', `echo.mesh ${type}`);
      return answer.answers!.map((a) => (a as { data: string }).data);
    };
    await waitFor('echo-1 healthy', async () => (await zone.instances()).find((i) => i.id === 'echo-1')?.healthy || undefined);
    // No edge reports a mesh listener: the name exists, with no address (not the zone's ingress).
    assert.deepEqual(await addresses('A'), []);
    await waitFor('the warning that no edge reports a mesh listener', async () => /no healthy edge of this region reports a mesh listener/.test(zone.tail(200)) || undefined, 5_000, 50);

    const d = new DiscoveryTestClient(`127.0.0.1:${zone.ports.grpc}`);
    try {
      const report = { proxy: 'edge-test', mode: 'edge', healthy: true, meshAddresses: ['127.0.0.9', 'fd00::9'] };
      assert.equal(await d.report(report), null);
      assert.deepEqual(await addresses('A'), ['127.0.0.9']);
      assert.deepEqual(await addresses('AAAA'), ['fd00::9']);
      const answer = await dnsQuery('127.0.0.1', zone.ports.dns, 'echo.mesh');
      assert.ok((answer.answers![0] as { ttl: number }).ttl <= 5, 'a short TTL: an edge that goes stops being given out soon');
      assert.equal((await dnsQuery('127.0.0.1', zone.ports.dns, 'nope.mesh')).rcode, 'NXDOMAIN');

      // Junk from a proxy is refused, naming it; what it reported before stays.
      const junk = await d.report({ ...report, meshAddresses: ['127.0.0.9', 'edge.example.com'] });
      assert.equal(junk?.details, 'mesh_addresses[1]: must be an IPv4 or IPv6 address, got "edge.example.com"');
      assert.deepEqual(await addresses('A'), ['127.0.0.9']);

      // Draining: the edge reports no addresses (and unhealthy); it is no longer given out.
      assert.equal(await d.report({ ...report, healthy: false, meshAddresses: [] }), null);
      assert.deepEqual(await addresses('A'), []);
    } finally {
      d.close();
    }
  });

  it('gives out the mesh listener address a real edge reports, until the edge stops', async () => {
    const meshA = async () => (await dnsQuery('127.0.0.1', zone.ports.dns, 'echo.mesh')).answers!.map((a) => (a as { data: string }).data);
    const edge = new PartProcess('edge-fra', [
      'edge', '--mode', 'edge', '--region', 'fra', '--zone', zone.discoveryAddress, '--name', 'edge-fra',
      '--http', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${await freePort()}`, '--access-log-sample', '0',
      '--mesh-http', `127.0.0.1:${await freePort()}`, '--mesh-advertise', '127.0.0.10',
    ], cp.dir);
    edge.start();
    try {
      await waitFor('echo.mesh to answer the edge\'s mesh address', async () => {
        if (!edge.running) throw new Error(`the edge exited:\n${edge.tail(20)}`);
        return (await meshA()).includes('127.0.0.10') || undefined;
      }, 30_000, 200);
    } finally {
      await edge.stop();
    }
    // Draining it reports no address; gone, it stops reporting: either way it is no longer given out.
    await waitFor('echo.mesh to stop answering the stopped edge\'s address', async () => !(await meshA()).includes('127.0.0.10') || undefined, 15_000, 200);
  });

  it('keeps serving discovery and DNS while the global controller is away, and after its own restart', async () => {
    await cp.primary.stop();
    await waitFor('zone to notice', async () => (await zone.health()).federated === false || undefined, 15_000, 100);

    const check = async (when: string) => {
      const d = new DiscoveryTestClient(`127.0.0.1:${zone.ports.grpc}`);
      assert.equal(await d.report({ proxy: 'edge-test', mode: 'edge', healthy: true, meshAddresses: ['127.0.0.9'] }), null, when);
      const answer = await dnsQuery('127.0.0.1', zone.ports.dns, 'echo.mesh');
      assert.equal(answer.rcode, 'NOERROR', when);
      assert.equal((answer.answers![0] as { data: string }).data, '127.0.0.9', when);
      d.open('fra');
      const view = await d.first();
      d.close();
      assert.equal(view.full, true);
      assert.ok(view.resources.some((r) => r.kind === 'Service' && r.name === 'echo'), `${when}: the view holds the echo service`);
      assert.ok(view.instances.some((i) => i.id === 'echo-1' && i.healthy), `${when}: the view holds the healthy instance`);
      assert.deepEqual(view.instances.find((i) => i.id === 'echo-1')?.ports, { admin: 9101 }, `${when}: with its other ports`);
    };
    await check('global controller away');

    // Restart the zone while the global controller is still down: it serves from its files.
    await zone.stop();
    zone.start();
    await zone.waitUp(false);
    assert.ok(/serving from the saved global state/.test(zone.tail(200)));
    await waitFor('echo-1 healthy again', async () => (await zone.instances()).find((i) => i.id === 'echo-1')?.healthy || undefined);
    await check('zone restarted, global controller still away');

    cp.primary.start();
    await cp.primary.ready();
    await zone.waitUp(true);
  });

  it('starts empty from a corrupt snapshot file, says so, and recovers from the global controller', async () => {
    await zone.stop();
    fs.writeFileSync(path.join(zone.stateDir, 'global-state.json'), '{"format":1,"sha256":"00","payload":{"version":');
    zone.start();
    await zone.waitUp(true);
    assert.match(zone.tail(200), /global-state\.json is corrupt/);
    // Federated first, then the snapshot arrives.
    const h = await waitFor('the state recovered from the global controller', async () => {
      const health = await zone.health();
      return health.version > 0 ? health : undefined;
    }, 30_000, 100);
    assert.ok(h.version > 0, 'recovered the state from the global controller');
    const state = (await (await fetch(`${zone.url}/v1/state`)).json()) as { resources: string[] };
    assert.ok(state.resources.includes('Service/echo'));
  });
});
