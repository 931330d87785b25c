// TCP across regions in controlled mode: the edge and the ingress hold mesh
// leaves from their zones (a test CA), so the ingress checks each caller
// with its IngressAuthorizer: the edge's identity must chain to the mesh
// roots and TrafficPermission must let it call the service.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/observability/logger';
import { formatIdentity, issueLeaf, type IssuedLeaf } from '../../lib/pki';
import { findSample, readSamples } from '../../test-support/metric-samples';
import { HOUR_MS, makeRoot, makeZone, TD, type Zone } from '../../test-support/pki-fixtures';
import type { RemoteRegion } from '../config/edge-view';
import type { LeafSource } from '../identity/leaf-source';
import { MeshIdentity } from '../identity/mesh-identity';
import { startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { freePort, LineClient, LineEcho } from '../testing/line-echo';
import { doc, instanceDoc, serviceDoc } from '../testing/upstream-server';

function zoneSource(zone: Zone, rootPem: string, role: 'edge' | 'ingress'): LeafSource {
  return {
    describe: async (proxy) => ({ identity: formatIdentity({ trustDomain: TD, region: zone.region, role, name: proxy }) }),
    issue: async (_proxy, csrPem): Promise<IssuedLeaf> => {
      const leaf = issueLeaf({ caCertPem: zone.certPem, caKeyPem: zone.keyPem, csrPem, allowedRegion: zone.region, trustDomain: TD, lifetimeMs: HOUR_MS });
      return { chainPem: leaf.certPem + zone.certPem, trustBundle: [rootPem], identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter };
    },
  };
}

async function meshIdentity(zone: Zone, rootPem: string, proxy: string, mode: 'edge' | 'ingress'): Promise<MeshIdentity> {
  const identity = new MeshIdentity(zoneSource(zone, rootPem, mode), { proxy, mode }, silentLogger());
  await identity.start();
  return identity;
}

async function metric(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${h.gateway.adminAddress()!.port}/metrics`);
  return findSample(readSamples(await res.text()), name, labels)?.value ?? 0;
}

describe('TCP across regions in controlled mode (IngressAuthorizer, TrafficPermission)', () => {
  let instance: LineEcho;
  let ingress: Harness;
  let edge: Harness;
  let port: number;
  const admin = { host: '127.0.0.1', port: 0 };
  const tcpService = () => serviceDoc('lines', { ports: [{ name: 'lines', port, protocol: 'tcp', public: true }] });
  const onlyOthers = doc('TrafficPermission', 'lines-callers', { service: 'lines', allow: [{ identity: `spiffe://${TD}/region/*/edge/someone-else` }] });

  before(async () => {
    const root = makeRoot();
    instance = await LineEcho.start('iad-1');
    port = await freePort();
    ingress = await startGateway([tcpService(), instanceDoc('iad-1', 'lines', instance.port)], {
      mode: 'ingress',
      region: 'iad',
      name: 'iad-ingress',
      http: undefined,
      https: { host: '127.0.0.1', port: 0 },
      meshIdentity: await meshIdentity(makeZone(root, 'iad'), root.certPem, 'iad-ingress', 'ingress'),
      admin,
    });
    const edgeDocs = [tcpService(), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
    edge = await startGateway(edgeDocs, { region: 'fra', name: 'fra-edge', meshIdentity: await meshIdentity(makeZone(root, 'fra'), root.certPem, 'fra-edge', 'edge'), admin });
    const iad: RemoteRegion = {
      name: 'iad',
      latitude: 38.95,
      longitude: -77.45,
      ingressAddress: `127.0.0.1:${ingress.httpsPort}`,
      reachable: true,
      rttMs: 5,
      services: new Map([['lines', { healthy: 1, total: 1, load: 0 }]]),
    };
    edge.source.set({ ...viewOf(edgeDocs, 'fra'), remoteRegions: new Map([['iad', iad]]) });
    await edge.gateway.tcp.settled();
  });
  after(async () => {
    await edge.stop();
    await ingress.stop();
    await instance.close();
  });

  it('serves a verified edge that TrafficPermission allows (by default: any edge of the mesh)', async () => {
    const c = await LineClient.connect(port);
    try {
      c.send('over mtls');
      assert.equal(await c.nextLine(), 'hello iad-1');
      assert.equal(await c.nextLine(), 'iad-1: over mtls');
      assert.equal(await metric(ingress, 'meridian_ingress_verified_requests_total', { identity: `spiffe://${TD}/region/fra/edge/fra-edge` }), 1);
    } finally {
      c.destroy();
    }
  });

  it('refuses an edge TrafficPermission does not allow: the client connection is closed, counted at the ingress', async () => {
    ingress.setDocs([tcpService(), instanceDoc('iad-1', 'lines', instance.port), onlyOthers]);
    try {
      const before = instance.connections;
      const c = await LineClient.connect(port);
      assert.ok(await c.closedWithin(), 'closed');
      assert.deepEqual(c.received(), []);
      assert.equal(instance.connections, before, 'the instance saw nothing');
      assert.equal(await metric(ingress, 'meridian_tcp_refused_total', { reason: 'not-allowed' }), 1);
      assert.equal(await metric(ingress, 'meridian_ingress_refused_total', { reason: 'not-allowed' }), 1);
      assert.equal(await metric(edge, 'meridian_tcp_connections_total', { service: 'lines', port: 'lines', region: 'iad', outcome: 'connect-failed' }), 1);
    } finally {
      ingress.setDocs([tcpService(), instanceDoc('iad-1', 'lines', instance.port)]);
    }
  });
});
