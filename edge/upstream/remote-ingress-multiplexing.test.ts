// Requests from an edge to a remote region's ingress share HTTP/2
// connections over mesh TLS: a burst of concurrent GETs opens a few
// connections, not one per request, and a second burst rides them; POSTs,
// which undici will not put beside other requests on a connection, still go
// side by side on connections of their own. Real gateways with mTLS, a counting TCP path between them
// (testing/freezable-path.ts, never frozen here).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FreezablePath } from '../testing/freezable-path';
import { get } from '../testing/http-client';
import { mtlsPair, type MtlsPair } from '../testing/mtls-pair';
import { startGateway, viewOf, type Harness } from '../testing/gateway-harness';
import { remoteRegion } from '../testing/remote-region';
import { doc, instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';

describe('edge to remote ingress over mesh TLS', () => {
  const service = 'only-iad';
  const docs = [serviceDoc(service), doc('Region', 'fra', { location: { latitude: 50.11, longitude: 8.68 } })];
  let pair: MtlsPair;
  let instance: TestUpstream;
  let iad: Harness;
  let edge: Harness;
  let path: FreezablePath;

  before(async () => {
    pair = mtlsPair();
    instance = await TestUpstream.start('only-iad-1');
    // Each answer takes a moment, so the burst is really in flight at once.
    instance.delayMs = 100;
    iad = await startGateway([serviceDoc(service), instanceDoc('only-iad-1', service, instance.port)], { ...pair.ingressOptions, region: 'iad', name: 'ingress-iad' });
    path = await FreezablePath.start(iad.httpsPort);
    edge = await startGateway(docs, { region: 'fra', name: 'edge-fra', meshTls: pair.edgeMeshTls });
    edge.source.set({ ...viewOf(docs, 'fra'), remoteRegions: new Map([['iad', remoteRegion('iad', path.port, { [service]: 1 })]]) });
  });
  after(async () => {
    await edge.stop();
    await path.close();
    await iad.stop();
    await instance.close();
    pair.remove();
  });

  const burst = (n: number) => Promise.all(Array.from({ length: n }, () => get(edge.port, '/', { host: `${service}.mesh`, timeoutMs: 10_000 })));

  it('carries a burst of GETs on the connections it has', async () => {
    const cold = await burst(50);
    assert.deepEqual(cold.map((r) => r.status), Array(50).fill(200));
    const opened = path.accepted;
    const warm = await burst(50);
    assert.deepEqual(warm.map((r) => r.status), Array(50).fill(200));
    const warmOpened = path.accepted - opened;
    console.log(`# a cold burst of 50 GETs opened ${opened} connections, a warm one ${warmOpened} more`);
    // A connection per request (what undici does unless told to multiplex)
    // opened 33 for 50. Sharing: while connections are being dialled a cold
    // burst may open a few; a warm one rides the open ones (on a loaded
    // machine one may have gone idle and closed meanwhile).
    assert.ok(opened <= 16, `the cold burst opened ${opened} connections for 50 GETs`);
    assert.ok(warmOpened < opened || warmOpened === 0, `the warm burst opened ${warmOpened} more connections for 50 GETs`);
  });

  it('still sends concurrent POSTs with bodies side by side', async () => {
    let inFlight = 0;
    let most = 0;
    instance.behaviour = (_req, res) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }, 1000);
      return true;
    };
    try {
      const posts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => get(edge.port, '/orders', { host: `${service}.mesh`, method: 'POST', body: `order ${i}`, timeoutMs: 10_000 })),
      );
      assert.deepEqual(posts.map((r) => r.status), Array(20).fill(200));
      assert.ok(most >= 15, `${most} POSTs reached the instance at once (of 20)`);
    } finally {
      instance.behaviour = undefined;
    }
  });
});
