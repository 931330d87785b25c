// Data-plane identity end to end, with real processes: etcd, the global
// controller (root CA), zone controllers for fra and iad issuing 15 s leaves
// (--leaf-lifetime: renewed at two thirds, 5 s before expiry, which a
// CPU-starved machine needs for an RSA key, the RPC and the signature), the iad ingress on mTLS and the fra edge. Covers the
// issuance RPC's refusals, each refusal of the ingress, and leaf rotation of
// both proxies under a steady stream of cross-region requests.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Agent, request } from 'undici';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { PartProcess, waitFor } from './harness/child-process';
import { httpGet } from './harness/http-get';
import { findSample, readSamples } from '../test-support/metric-samples';
import { repoRoot } from '../test-support/repo-root';
import { freePort } from '../lib/process/free-port';
import { CLOCK_SKEW_MS, createCsr, formatIdentity, generateKeyPairAsync, readCertificate, verifyChain } from '../lib/pki';
import { makeLeaf, makeRoot, makeZone } from '../test-support/pki-fixtures';
import { parseDocuments } from '../lib/resources';
import { createEchoServer } from '../cli/echo-server';
// eslint-disable-next-line import-x/no-restricted-paths -- the test speaks to a real zone as an edge does, with the edge's own certificate client
import { CertificateClient, IssueError, type IssuedLeaf } from '../edge/identity/certificate-client';

const TD = 'meridian.local';
const LEAF_LIFETIME = '15s';
const LEAF_LIFETIME_MS = 15_000;

interface MeshView {
  identity: string;
  serial: string;
  renewals: number;
  ingressPeers: Record<string, { identity: string; serial: string }>;
  callers?: Record<string, { serial: string }>;
}

async function meshView(admin: string): Promise<MeshView> {
  return ((await (await fetch(`http://${admin}/v1/view`, { signal: AbortSignal.timeout(2000) })).json()) as { meshIdentity: MeshView }).meshIdentity;
}

async function metricValue(admin: string, name: string, labels: Record<string, string>): Promise<number> {
  return findSample(readSamples(await (await fetch(`http://${admin}/metrics`)).text()), name, labels)?.value ?? 0;
}

// A leaf from a zone controller, as any caller of its discovery port gets one.
async function leafFrom(zone: ZoneProcess, region: string, name: string): Promise<IssuedLeaf & { keyPem: string }> {
  const client = new CertificateClient(zone.discoveryAddress);
  try {
    const { privateKeyPem } = await generateKeyPairAsync();
    const csr = createCsr({ keyPem: privateKeyPem, identity: formatIdentity({ trustDomain: TD, region, role: 'edge', name }) });
    return { ...(await client.issue(name, csr)), keyPem: privateKeyPem };
  } finally {
    client.close();
  }
}

describe('data-plane identity', () => {
  const cp = new ControlPlane();
  let fra: ZoneProcess;
  let iad: ZoneProcess;
  let echo: http.Server;
  const parts: PartProcess[] = [];
  let ingressAddress: string;
  let ingressAdmin: string;
  let edgeHttp: string;
  let edgeAdmin: string;
  let trustBundle: string[];

  // A request straight to the iad ingress over TLS, with or without a client certificate.
  async function callIngress(client?: { cert: string; key: string }): Promise<{ status: number; body: string }> {
    const dispatcher = new Agent({ connect: { ca: trustBundle, checkServerIdentity: () => undefined, ...(client ?? {}) } });
    try {
      const res = await request(`https://${ingressAddress}/`, { dispatcher, headers: { host: 'echo.mesh' } });
      return { status: res.statusCode, body: await res.body.text() };
    } finally {
      await dispatcher.close();
    }
  }

  before(async () => {
    await cp.start(1);
    const docs = ['regions.yaml', 'echo.yaml'].flatMap((f) => parseDocuments(fs.readFileSync(path.join(repoRoot(), 'examples', f), 'utf8'), f));
    assert.equal((await cp.api('POST', '/v1/apply', docs)).status, 200);
    fra = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir, ['--leaf-lifetime', LEAF_LIFETIME]);
    iad = await ZoneProcess.create('iad', cp.primary.grpcPort, await cp.token('iad'), cp.dir, ['--leaf-lifetime', LEAF_LIFETIME]);
    iad.instanceToken = (await cp.instanceToken('iad', 'echo')).token;
    fra.start();
    iad.start();
    await Promise.all([fra.waitUp(true), iad.waitUp(true)]);
    for (const z of [fra, iad]) {
      await waitFor(`${z.name} CA`, async () => ((await (await fetch(`${z.url}/v1/state`)).json()) as { zoneCa: unknown }).zoneCa ?? undefined, 20_000);
    }
    // echo runs in iad only: every request to the fra edge crosses regions.
    echo = createEchoServer({ host: '127.0.0.1', port: 0, service: 'echo', region: 'iad', instance: 'echo-iad-1' });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const registered = await iad.register({ id: 'echo-iad-1', service: 'echo', address: '127.0.0.1', port: (echo.address() as { port: number }).port });
    assert.ok(registered.status < 300, JSON.stringify(registered.body));

    ingressAddress = `127.0.0.1:${iad.ports.ingress}`;
    ingressAdmin = `127.0.0.1:${await freePort()}`;
    edgeHttp = `127.0.0.1:${await freePort()}`;
    edgeAdmin = `127.0.0.1:${await freePort()}`;
    const ingress = new PartProcess('ingress-iad', [
      'edge', '--mode', 'ingress', '--region', 'iad', '--zone', iad.discoveryAddress, '--name', 'ingress-iad',
      '--https', ingressAddress, '--admin', ingressAdmin, '--access-log-sample', '0',
    ], cp.dir);
    const edge = new PartProcess('edge-fra', [
      'edge', '--mode', 'edge', '--region', 'fra', '--zone', fra.discoveryAddress, '--name', 'edge-fra',
      '--http', edgeHttp, '--admin', edgeAdmin, '--access-log-sample', '0',
    ], cp.dir);
    parts.push(ingress, edge);
    ingress.start();
    edge.start();
    await waitFor('the fra edge to answer echo.mesh from iad', async () => {
      if (!edge.running || !ingress.running) throw new Error(`a proxy exited:\n${edge.tail(20)}\n${ingress.tail(20)}`);
      const r = await httpGet(`http://${edgeHttp}/`, { host: 'echo.mesh' }).catch(() => undefined);
      return r?.status === 200 && JSON.parse(r.body).region === 'iad' ? r : undefined;
    }, 30_000, 200).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- edge ---\n${edge.tail(30)}\n--- ingress ---\n${ingress.tail(30)}`);
    });
    trustBundle = (await leafFrom(fra, 'fra', 'bundle-probe')).trustBundle;
  });

  after(async () => {
    await Promise.all(parts.map((p) => p.stop()));
    await Promise.all([fra?.stop(), iad?.stop()]);
    echo?.close();
    await cp.stop();
  });

  it('IssueCertificate signs a leaf for this zone that chains to the mesh roots, lifetime from --leaf-lifetime', async () => {
    const leaf = await leafFrom(fra, 'fra', 'probe-1');
    const [leafPem, ...chain] = leaf.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
    const verified = verifyChain({ leafPem: leafPem!, chainPems: chain, rootPems: leaf.trustBundle });
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.identity, `spiffe://${TD}/region/fra/edge/probe-1`);
    // Valid from the signing (backdated by the clock-skew allowance) for the
    // lifetime asked, give or take the encoding's whole seconds.
    const info = readCertificate(leafPem!);
    const lifeMs = info.notAfter.getTime() - info.notBefore.getTime() - CLOCK_SKEW_MS;
    assert.ok(Math.abs(lifeMs - LEAF_LIFETIME_MS) <= 1_000, `a ${LEAF_LIFETIME} leaf is valid for ${lifeMs} ms after its signing`);
    assert.ok(info.notAfter.getTime() > Date.now(), 'not expired when received');
  });

  it('IssueCertificate refuses a malformed CSR, an identity outside the zone, another role and another name, with the reason', async () => {
    const { privateKeyPem: keyPem } = await generateKeyPairAsync();
    const csr = (trustDomain: string, region: string, role: 'edge' | 'zone', name: string) => createCsr({ keyPem, identity: formatIdentity({ trustDomain, region, role, name }) });
    const client = new CertificateClient(fra.discoveryAddress);
    const cases: [string, string, string, RegExp][] = [
      ['malformed', 'x', '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n', /^csr: malformed CSR/],
      ['not PEM', 'x', 'hello', /^csr: malformed CSR: not PEM/],
      ['another region', 'x', csr(TD, 'iad', 'edge', 'x'), /outside region fra/],
      ['another trust domain', 'x', csr('evil.example', 'fra', 'edge', 'x'), /outside trust domain meridian\.local/],
      ['a zone role', 'x', csr(TD, 'fra', 'zone', 'x'), /only for roles edge and ingress/],
      ['another proxy\'s name', 'edge-fra', csr(TD, 'fra', 'edge', 'x'), /name 'x' is not the caller's proxy name 'edge-fra'/],
    ];
    try {
      for (const [what, proxy, csrPem, message] of cases) {
        const err = await client.issue(proxy, csrPem).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof IssueError, `${what}: refused`);
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${what}: ${err.message}`);
        assert.match(err.message, message, what);
      }
    } finally {
      client.close();
    }
    assert.ok((await metricValue(fra.url.replace('http://', ''), 'meridian_zone_leaf_certificates_refused_total', { reason: 'malformed-csr' })) >= 2);
    assert.ok((await metricValue(fra.url.replace('http://', ''), 'meridian_zone_leaf_certificates_refused_total', { reason: 'not-allowed' })) >= 4);
    assert.ok(fra.running, 'the zone controller keeps serving');
  });

  it('the ingress refuses a caller without a client certificate: 403, reason, metric', async () => {
    const res = await callIngress();
    assert.equal(res.status, 403);
    assert.equal(res.body.trim(), 'client certificate required');
    assert.ok((await metricValue(ingressAdmin, 'meridian_ingress_refused_total', { reason: 'no-client-certificate' })) >= 1);
  });

  it('the ingress refuses a certificate from another CA, even one naming a mesh identity', async () => {
    // A CA this test makes: same trust domain, same identity as the real edge.
    const foreign = makeLeaf(makeZone(makeRoot(), 'fra'), { role: 'edge', name: 'edge-fra' });
    const res = await callIngress({ cert: foreign.chainPem, key: foreign.keyPem });
    assert.equal(res.status, 403);
    assert.equal(res.body.trim(), 'certificate not issued by this mesh');
    assert.ok((await metricValue(ingressAdmin, 'meridian_ingress_refused_total', { reason: 'untrusted' })) >= 1);
  });

  it('the ingress refuses an expired certificate issued by the real zone CA', async () => {
    // echo runs in this process: the foreign CA's keys, made just before on
    // this event loop, can hold it past two health checks. Healthy first,
    // then the short-lived leaf.
    await waitFor('echo healthy in iad', async () => (await iad.instances()).find((i) => i.id === 'echo-iad-1')?.healthy || undefined, 15_000, 100);
    // A real leaf of the fra zone, used once it has expired.
    const leaf = await leafFrom(fra, 'fra', 'probe-expired');
    const before = await callIngress({ cert: leaf.chainPem, key: leaf.keyPem });
    assert.equal(before.status, 200, `valid at first: ${before.body}`);
    await new Promise((r) => setTimeout(r, Math.max(0, leaf.notAfter.getTime() - Date.now()) + 1_500));
    const res = await callIngress({ cert: leaf.chainPem, key: leaf.keyPem });
    assert.equal(res.status, 403);
    assert.equal(res.body.trim(), 'certificate expired');
    assert.ok((await metricValue(ingressAdmin, 'meridian_ingress_refused_total', { reason: 'expired' })) >= 1);
  });

  it('the ingress refuses a valid identity that no TrafficPermission allows, and lets the allowed one through', async () => {
    const permission = {
      apiVersion: 'meridian.dev/v1',
      kind: 'TrafficPermission',
      metadata: { name: 'echo-from-fra-edge' },
      spec: { service: 'echo', allow: [{ identity: `spiffe://${TD}/region/fra/edge/edge-fra` }, { identity: `spiffe://${TD}/region/*/ingress/*` }] },
    };
    assert.equal((await cp.api('POST', '/v1/apply', [permission])).status, 200);
    try {
      const probe = await leafFrom(fra, 'fra', 'probe-denied');
      const res = await waitFor('the permission to reach the ingress', async () => {
        const r = await callIngress({ cert: probe.chainPem, key: probe.keyPem });
        return r.status === 403 ? r : undefined;
      }, 10_000, 200);
      assert.equal(res.body.trim(), `identity spiffe://${TD}/region/fra/edge/probe-denied is not allowed to call service echo`);
      assert.ok((await metricValue(ingressAdmin, 'meridian_ingress_refused_total', { reason: 'not-allowed' })) >= 1);
      const through = await httpGet(`http://${edgeHttp}/`, { host: 'echo.mesh' });
      assert.equal(through.status, 200, `the permitted edge still gets through: ${through.body}`);
    } finally {
      assert.equal((await cp.api('DELETE', '/v1/resources/trafficpermissions/echo-from-fra-edge')).status < 300, true);
    }
  });

  it('rotates both leaves under a steady cross-region stream with zero failed requests; the new serials are in use', async () => {
    const edgeStart = await meshView(edgeAdmin);
    const ingressStart = await meshView(ingressAdmin);
    const edgeSerials = new Set<string>();
    const ingressSerials = new Set<string>();
    const t0 = Date.now();
    let sent = 0;
    const failures: string[] = [];
    let settled = false;
    let lastPoll = 0;
    let edgeNow = edgeStart;
    let ingressNow = ingressStart;
    while (Date.now() - t0 < 4 * LEAF_LIFETIME_MS && sent < 20_000) {
      sent++;
      try {
        const r = await httpGet(`http://${edgeHttp}/`, { host: 'echo.mesh' });
        if (r.status !== 200) failures.push(`${r.status} ${r.body.slice(0, 160)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      if (Date.now() - lastPoll < 250) continue;
      lastPoll = Date.now();
      [edgeNow, ingressNow] = await Promise.all([meshView(edgeAdmin), meshView(ingressAdmin)]);
      edgeSerials.add(edgeNow.serial);
      ingressSerials.add(ingressNow.serial);
      const ingressSawEdge = ingressNow.callers?.[edgeNow.identity]?.serial;
      const edgeSawIngress = edgeNow.ingressPeers.iad?.serial;
      // Done once both renewed and each side's connection carries a renewed certificate of the other.
      settled =
        edgeNow.renewals > edgeStart.renewals &&
        ingressNow.renewals > ingressStart.renewals &&
        ingressSawEdge !== undefined && ingressSawEdge !== edgeStart.serial && edgeSerials.has(ingressSawEdge) &&
        edgeSawIngress !== undefined && edgeSawIngress !== ingressStart.serial && ingressSerials.has(edgeSawIngress);
      if (settled) break;
    }
    const seconds = (Date.now() - t0) / 1000;
    console.log(
      `# rotation: ${sent} requests in ${seconds.toFixed(1)} s through edge(fra) -> ingress(iad), ${failures.length} failed; ` +
        `edge renewals ${edgeNow.renewals - edgeStart.renewals} (serial ${edgeStart.serial} -> ${edgeNow.serial}), ` +
        `ingress renewals ${ingressNow.renewals - ingressStart.renewals} (serial ${ingressStart.serial} -> ${ingressNow.serial}); ` +
        `ingress saw edge serial ${ingressNow.callers?.[edgeNow.identity]?.serial}, edge saw ingress serial ${edgeNow.ingressPeers.iad?.serial}`,
    );
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} requests failed`);
    assert.ok(settled, 'both leaves rotated and each side now sees a renewed certificate of the other');
  });
});
