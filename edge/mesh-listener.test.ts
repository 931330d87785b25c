// The mesh listener end to end through in-process gateways on 127.0.0.1:
// <service>.mesh from the region's workloads, served locally or by another
// region's ingress, refused outside the region's networks and where a
// TrafficPermission does not allow the caller; a Service's other HTTP port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EdgeView, LocalInstance } from './config/edge-view';
import { get } from './testing/http-client';
import { startGateway, viewOf, type Harness } from './testing/gateway-harness';
import { remoteRegion } from './testing/remote-region';
import { doc, instanceDoc, serviceDoc, TestUpstream } from './testing/upstream-server';
import { freePort } from './testing/line-echo';

const MESH = { http: { host: '127.0.0.1', port: 0 }, advertise: ['127.0.0.1'] };
const FRA = { latitude: 50.11, longitude: 8.68 };
const fraLoopback = doc('Region', 'fra', { location: FRA, instanceNetworks: ['127.0.0.0/8'] });

// The mesh host listens on a Service's HTTP port once the view named it.
async function waitForAnswer(port: number, host: string): Promise<Awaited<ReturnType<typeof get>>> {
  for (let i = 0; ; i++) {
    try {
      return await get(port, '/', { host });
    } catch (err) {
      if (i >= 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function withInstancePorts(view: EdgeView, service: string, ports: Record<string, number>): EdgeView {
  const instances = new Map(view.instances);
  instances.set(service, (view.instances.get(service) ?? []).map((i): LocalInstance => ({ ...i, ports })));
  return { ...view, instances };
}

describe('mesh listener: <service>.mesh for the region\'s workloads', () => {
  let fraEcho: TestUpstream;
  let iadEcho: TestUpstream;
  let iad: Harness;
  let edge: Harness;
  let meshPort = 0;
  const localDocs = () => [serviceDoc('echo'), fraLoopback, instanceDoc('echo-fra-1', 'echo', fraEcho.port)];
  const withIad = (docs: unknown[]): EdgeView => ({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', remoteRegion('iad', iad.port, { echo: 1 })]]) });

  before(async () => {
    fraEcho = await TestUpstream.start('echo-fra-1');
    iadEcho = await TestUpstream.start('echo-iad-1');
    iad = await startGateway([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', iadEcho.port)], { mode: 'ingress', region: 'iad', name: 'iad-ingress' });
    edge = await startGateway(localDocs(), { region: 'fra', name: 'fra-edge', mesh: MESH, admin: { host: '127.0.0.1', port: 0 } });
    meshPort = edge.gateway.meshHttpAddress()!.port;
  });
  after(async () => {
    await edge.stop();
    await iad.stop();
    await fraEcho.close();
    await iadEcho.close();
  });

  it('serves echo.mesh from a local instance, and says which addresses DNS gives out', async () => {
    edge.source.set(withIad(localDocs()));
    const r = await get(meshPort, '/hello', { host: 'echo.mesh', headers: { 'x-meridian-source-identity': 'spiffe://meridian.local/region/fra/service/admin' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-meridian-region'], 'fra');
    assert.equal(r.json().name, 'echo-fra-1');
    assert.equal(fraEcho.received.at(-1)?.headers['x-meridian-source-identity'], undefined, 'a caller cannot name its own identity');
    assert.deepEqual(edge.gateway.meshAddresses(), ['127.0.0.1']);
  });

  it('sends to the nearest region over its ingress when no local instance is healthy, naming the caller', async () => {
    edge.source.set(withIad([serviceDoc('echo'), fraLoopback]));
    const r = await get(meshPort, '/far', { host: 'echo.mesh:80' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-meridian-region'], 'iad');
    assert.equal(r.json().name, 'echo-iad-1');
    const seen = iadEcho.received.at(-1)!;
    assert.equal(seen.url, '/far');
    assert.equal(seen.headers['x-meridian-source-identity'], undefined, 'the ingress does not pass the identity to its instance');
    edge.source.set(withIad(localDocs()));
  });

  it('answers 404 for a name that is not <service>.mesh', async () => {
    const r = await get(meshPort, '/', { host: 'example.com' });
    assert.equal(r.status, 404);
    assert.match(r.text, /serves <service>\.mesh names only/);
  });

  it('refuses callers outside the Region\'s instance networks, and counts them', async () => {
    edge.source.set(withIad([serviceDoc('echo'), doc('Region', 'fra', { location: FRA, instanceNetworks: ['10.20.0.0/16'] }), instanceDoc('echo-fra-1', 'echo', fraEcho.port)]));
    const r = await get(meshPort, '/', { host: 'echo.mesh' });
    assert.equal(r.status, 403);
    assert.match(r.text, /callers of region fra only: 127\.0\.0\.1 is outside the region's instance networks/);
    const metrics = await get(edge.gateway.adminAddress()!.port, '/metrics');
    assert.match(metrics.text, /meridian_mesh_refused_total\{reason="outside-networks"[^}]*\} [1-9]/);
    edge.source.set(withIad(localDocs()));
    assert.equal((await get(meshPort, '/', { host: 'echo.mesh' })).status, 200, 'allowed again once the networks include it');
  });

  it('lets a network caller through only where a TrafficPermission allows network callers', async () => {
    const onlyAdmin = doc('TrafficPermission', 'echo-from-admin', { service: 'echo', allow: [{ identity: 'spiffe://meridian.local/region/*/service/admin' }] });
    edge.source.set(withIad([...localDocs(), onlyAdmin]));
    const denied = await get(meshPort, '/', { host: 'echo.mesh' });
    assert.equal(denied.status, 403);
    assert.equal(denied.text.trim(), 'identity spiffe://meridian.local/region/fra/network is not allowed to call service echo');
    const network = doc('TrafficPermission', 'echo-from-fra', { service: 'echo', allow: [{ identity: 'spiffe://meridian.local/region/fra/network' }] });
    edge.source.set(withIad([...localDocs(), onlyAdmin, network]));
    assert.equal((await get(meshPort, '/', { host: 'echo.mesh' })).status, 200);
    const metrics = await get(edge.gateway.adminAddress()!.port, '/metrics');
    assert.match(metrics.text, /meridian_mesh_refused_total\{reason="not-allowed"[^}]*\} [1-9]/);
    assert.match(metrics.text, /meridian_mesh_allowed_total\{caller="network"[^}]*\} [1-9]/);
    edge.source.set(withIad(localDocs()));
  });

  it('refuses a split that sends a permitted service\'s request to a service the caller may not call', async () => {
    const secret = await TestUpstream.start('secret-1');
    try {
      const toSecret = doc('TrafficRoute', 'echo', { service: 'echo', rules: [{ match: { headers: [{ name: 'x-canary', exact: 'yes' }] }, split: [{ service: 'secret', weight: 1 }] }] });
      const onlyAdmin = doc('TrafficPermission', 'secret-from-admin', { service: 'secret', allow: [{ identity: 'spiffe://meridian.local/region/*/service/admin' }] });
      edge.source.set(withIad([...localDocs(), serviceDoc('secret'), instanceDoc('secret-1', 'secret', secret.port), toSecret, onlyAdmin]));
      assert.equal((await get(meshPort, '/', { host: 'echo.mesh' })).json().name, 'echo-fra-1');
      const split = await get(meshPort, '/', { host: 'echo.mesh', headers: { 'x-canary': 'yes' } });
      assert.equal(split.status, 403, split.text);
      assert.equal(split.text.trim(), 'identity spiffe://meridian.local/region/fra/network is not allowed to call service secret');
      assert.equal(secret.received.length, 0, 'the instance of secret saw nothing');
    } finally {
      edge.source.set(withIad(localDocs()));
      await secret.close();
    }
  });

  it('an ingress does not send an HTTP request to a Service\'s tcp port named in x-meridian-port', async () => {
    const cache = await TestUpstream.start('cache-iad-1');
    try {
      const cacheDocs = [serviceDoc('cache', { ports: [{ name: 'web', port: 8080 }, { name: 'redis', port: 46379, protocol: 'tcp' }] }), instanceDoc('cache-iad-1', 'cache', cache.port)];
      // The instance serves its tcp port on the same port as its HTTP one: a mistake would be answered.
      iad.source.set(withInstancePorts(viewOf([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', iadEcho.port), ...cacheDocs], 'iad'), 'cache', { redis: cache.port }));
      const headers = { 'x-meridian-service': 'cache', 'x-meridian-hop': '1' };
      assert.equal((await get(iad.port, '/', { host: 'cache.mesh', headers })).status, 200, 'its HTTP port is served');
      const before = cache.received.length;
      const r = await get(iad.port, '/', { host: 'cache.mesh', headers: { ...headers, 'x-meridian-port': 'redis' } });
      assert.equal(r.status, 404, r.text);
      assert.match(r.text, /service 'cache' port 'redis' is a tcp port/);
      assert.equal(cache.received.length, before, 'nothing reached the instance');
    } finally {
      iad.source.set(viewOf([serviceDoc('echo'), instanceDoc('echo-iad-1', 'echo', iadEcho.port)], 'iad'));
      await cache.close();
    }
  });

  it('serves each HTTP port of a two-port Service at the instance\'s port for it, on the mesh host at the Service port too', async () => {
    const admin = await TestUpstream.start('multi-admin');
    const web = await TestUpstream.start('multi-web');
    try {
      // Free ports now: a fixed number may be some other socket's at the time.
      const [webPort, adminPort] = [await freePort(), await freePort()].sort((a, b) => a - b);
      const multi = serviceDoc('multi', { ports: [{ name: 'web', port: webPort }, { name: 'admin', port: adminPort }] });
      edge.source.set(withInstancePorts(withIad([...localDocs(), multi, instanceDoc('multi-1', 'multi', web.port)]), 'multi', { admin: admin.port }));
      assert.equal((await get(meshPort, '/', { host: 'multi.mesh' })).json().name, 'multi-web');
      assert.equal((await get(meshPort, '/', { host: `multi.mesh:${webPort}` })).json().name, 'multi-web');
      assert.equal((await get(meshPort, '/', { host: `multi.mesh:${adminPort}` })).json().name, 'multi-admin');
      // http://multi.mesh:<admin port>/ as a workload sends it: to that port of the mesh address.
      const onPort = await waitForAnswer(adminPort, `multi.mesh:${adminPort}`);
      assert.equal(onPort.json().name, 'multi-admin');
      assert.equal((await get(webPort, '/', { host: `multi.mesh:${webPort}` })).json().name, 'multi-web');
      assert.deepEqual(edge.gateway.viewSummary().meshHttpPorts, [webPort, adminPort]);
      const none = await get(meshPort, '/', { host: 'multi.mesh:7070' });
      assert.equal(none.status, 404);
      assert.match(none.text, /service 'multi' has no HTTP port 7070/);
      edge.source.set(withIad([...localDocs(), serviceDoc('cache', { ports: [{ name: 'redis', port: 46379, protocol: 'tcp' }] }), instanceDoc('cache-1', 'cache', web.port)]));
      const tcpOnly = await get(meshPort, '/', { host: 'cache.mesh' });
      assert.equal(tcpOnly.status, 404, 'HTTP is not sent to a TCP-only service');
      assert.match(tcpOnly.text, /service 'cache' has only TCP ports: connect to cache\.mesh on 46379/);
    } finally {
      edge.source.set(withIad(localDocs()));
      await admin.close();
      await web.close();
    }
  });
});
