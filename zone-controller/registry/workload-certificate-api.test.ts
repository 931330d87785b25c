// POST /v1/workload-certificates on the registry API, with a real zone CA:
// the identity comes from the instance token (never the CSR), the token
// must cover the service and the region, the CSR must be one the CA can
// vouch for, and every answer is counted by outcome.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeInstanceToken, verifyInstanceToken } from '../../lib/auth/instance-token';
import { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import { createRegistry, type Registry } from '../../lib/observability/metrics';
import { silentLogger } from '../../lib/observability/logger';
import { createCsr, createWorkloadCsr, generateKeyPair, issueIntermediate, LEAF_ROLES, readCertificate, verifyChain, WORKLOAD_ROLE } from '../../lib/pki';
import { makeRoot, TD } from '../../test-support/pki-fixtures';
import { findSample, readSamples } from '../../test-support/metric-samples';
import { ZoneCa } from '../identity/zone-ca';
import { WorkloadCertificateIssuer } from '../identity/workload-certificates';
import { InstanceRegistry } from './instance-registry';
import { createRegistryApiHandler } from './registry-api';

const HOUR_MS = 3_600_000;
const mesh = generateKeyPairSync('ed25519');
const tokenFor = (service: string, region = 'fra') => makeInstanceToken(mesh.privateKey, { region, service }, HOUR_MS).token;
const root = makeRoot();
const dir = mkdtempSync(join(tmpdir(), 'meridian-workload-cert-'));
const workloadKey = generateKeyPair().privateKeyPem;

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; json: any }

interface Zone { server: Server; port: number; metrics: Registry; ca: ZoneCa }
const zones: Zone[] = [];

// A registry API whose zone CA is signed by `root` (or not yet, ready: false).
async function startZone(ready = true): Promise<Zone> {
  const ca = new ZoneCa(mkdtempSync(join(dir, 'state-')), 'fra', TD, silentLogger());
  await ca.prepare();
  if (ready) {
    const certPem = issueIntermediate({ caCertPem: root.certPem, caKeyPem: root.keyPem, csrPem: ca.csr(), region: 'fra', trustDomain: TD, validityHours: 72 }).certPem;
    await ca.accept(certPem, [root.certPem]);
  }
  const metrics = createRegistry('zone-controller', false);
  const handler = createRegistryApiHandler({
    registry: new InstanceRegistry({ filePath: join(dir, `instances-${zones.length}.json`) }),
    knownService: (name) => name === 'echo' || name === 'api',
    region: 'fra',
    verifyToken: (token) => verifyInstanceToken(token, { publicKeys: [mesh.publicKey], isRevoked: () => false }),
    addressPolicy: () => new InstanceAddressPolicy(['127.0.0.0/8']),
    workloadCertificates: new WorkloadCertificateIssuer(ca, HOUR_MS, metrics, silentLogger()),
  });
  const server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const zone = { server, port: (server.address() as AddressInfo).port, metrics, ca };
  zones.push(zone);
  return zone;
}

let zone: Zone;
before(async () => {
  zone = await startZone();
});

after(async () => {
  for (const z of zones) {
    z.ca.stop();
    z.server.closeAllConnections();
    await new Promise((resolve) => z.server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

function call(port: number, method: string, body: string | undefined, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/v1/workload-certificates', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// token '': no Authorization header.
const ask = (body: unknown, token = tokenFor('echo'), port = zone.port): Promise<Reply> =>
  call(port, 'POST', typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) });

async function outcome(name: string, metrics = zone.metrics): Promise<number> {
  return findSample(readSamples(await metrics.metrics()), 'meridian_zone_workload_certificates_total', { outcome: name })?.value ?? 0;
}

describe('POST /v1/workload-certificates', () => {
  it('signs the CSR\'s key as the token\'s service in this region, whatever identity the CSR asks for', async () => {
    const issuedBefore = await outcome('issued');
    // A CSR that asks to be an edge: the zone ignores what it names.
    const csr = createCsr({ keyPem: workloadKey, identity: `spiffe://${TD}/region/fra/edge/fra-1`, dnsNames: ['fra-1.fra.mesh.internal'] });
    const reply = await ask({ service: 'echo', csr });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const identity = `spiffe://${TD}/region/fra/service/echo`;
    assert.equal(reply.json.identity, identity);

    const [leafPem, zoneCaPem] = reply.json.certificateChain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g);
    const leaf = readCertificate(leafPem);
    assert.deepEqual(leaf.uris, [identity], 'the only URI SAN is the token\'s identity');
    assert.deepEqual(leaf.dnsNames, [], 'no DNS name from the CSR');
    assert.equal(leaf.isCa, false);
    assert.ok(new X509Certificate(leafPem).checkPrivateKey(createPrivateKey(workloadKey)), 'the certificate is for the CSR\'s key');
    assert.equal(zoneCaPem, zone.ca.certPem);
    assert.deepEqual(reply.json.trustBundle, [root.certPem]);
    assert.equal(reply.json.serial, leaf.serial);
    assert.equal(reply.json.notAfter, leaf.notAfter.toISOString());
    assert.ok(leaf.notAfter.getTime() <= Date.now() + HOUR_MS, 'no longer than the zone\'s leaf lifetime');

    const workloads = verifyChain({ leafPem, chainPems: [zoneCaPem], rootPems: [root.certPem], leafRoles: [...LEAF_ROLES, WORKLOAD_ROLE] });
    assert.deepEqual(workloads.ok && workloads.identity, identity);
    const proxiesOnly = verifyChain({ leafPem, chainPems: [zoneCaPem], rootPems: [root.certPem] });
    assert.equal(proxiesOnly.ok, false, 'where only proxies are accepted, a workload certificate is not one');
    assert.equal(await outcome('issued'), issuedBefore + 1);
  });

  it('takes a CSR without any name, and a shorter lifetime when asked', async () => {
    const reply = await ask({ service: 'api', csr: createWorkloadCsr(workloadKey, 'api'), lifetimeSeconds: 600 }, tokenFor('*'));
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    assert.equal(reply.json.identity, `spiffe://${TD}/region/fra/service/api`, 'a token for every service gets the service it asks for');
    const leaf = readCertificate(reply.json.certificateChain);
    assert.ok(leaf.notAfter.getTime() <= Date.now() + 600_000);
    assert.ok(leaf.notAfter.getTime() > Date.now() + 500_000);
  });

  it('refuses a token for another service or region (403) and a request without one (401)', async () => {
    const csr = createWorkloadCsr(workloadKey, 'echo');
    const forbiddenBefore = await outcome('forbidden');
    const otherService = await ask({ service: 'echo', csr }, tokenFor('api'));
    assert.equal(otherService.status, 403);
    assert.match(otherService.json.error, /is for service 'api', not 'echo': it may not get certificates of 'echo'/);
    const otherRegion = await ask({ service: 'echo', csr }, tokenFor('echo', 'ams'));
    assert.equal(otherRegion.status, 403);
    assert.match(otherRegion.json.error, /is for region 'ams', this zone is 'fra'/);
    assert.equal(await outcome('forbidden'), forbiddenBefore + 2);

    const none = await ask({ service: 'echo', csr }, '');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal(await outcome('unauthenticated'), 1);
  });

  it('refuses a CSR it cannot read or whose signature does not verify (400, field csr)', async () => {
    const garbage = await ask({ service: 'echo', csr: 'hello' });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.field, 'csr');
    assert.match(garbage.json.error, /^csr: malformed CSR: not PEM text/);

    // The same CSR with one character of the signed part changed.
    const pem = createWorkloadCsr(workloadKey, 'echo');
    const lines = pem.split('\n');
    lines[3] = lines[3]!.slice(0, 10) + (lines[3]![10] === 'A' ? 'B' : 'A') + lines[3]!.slice(11);
    const altered = await ask({ service: 'echo', csr: lines.join('\n') });
    assert.equal(altered.status, 400);
    assert.equal(altered.json.field, 'csr');
    assert.match(altered.json.error, /its signature does not verify/);
    assert.equal(await outcome('invalid-csr'), 2);
  });

  it('names the field of a request it cannot take: unknown service 404, bad fields 400, too large 413', async () => {
    const csr = createWorkloadCsr(workloadKey, 'echo');
    const unknown = await ask({ service: 'nope', csr }, tokenFor('*'));
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { error: "service: unknown service 'nope'", field: 'service' });
    assert.equal(await outcome('unknown-service'), 1);

    const noCsr = await ask({ service: 'echo' });
    assert.deepEqual([noCsr.status, noCsr.json.field], [400, 'csr']);
    const tooLong = await ask({ service: 'echo', csr, lifetimeSeconds: 2 * 3600 });
    assert.deepEqual([tooLong.status, tooLong.json.field], [400, 'lifetimeSeconds']);
    assert.match(tooLong.json.error, /must be an integer from 300 to 3600/);
    const extra = await ask({ service: 'echo', csr, identity: 'spiffe://x/y' });
    assert.deepEqual([extra.status, extra.json.field], [400, 'identity']);
    const hugeCsr = await ask({ service: 'echo', csr: 'x'.repeat(20_000) });
    assert.deepEqual([hugeCsr.status, hugeCsr.json.field], [400, 'csr']);
    assert.match(hugeCsr.json.error, /at most 16384 characters/);

    const oversized = await ask({ service: 'echo', csr: 'x'.repeat(70 * 1024) });
    assert.equal(oversized.status, 413);
    assert.equal(await outcome('too-large'), 1);
  });

  it('answers 503 while the zone has no CA certificate, and keeps serving', async () => {
    const waiting = await startZone(false);
    const reply = await ask({ service: 'echo', csr: createWorkloadCsr(workloadKey, 'echo') }, tokenFor('echo'), waiting.port);
    assert.equal(reply.status, 503);
    assert.match(reply.json.error, /zone CA has not been issued yet/);
    assert.equal(await outcome('unavailable', waiting.metrics), 1);
    assert.equal((await call(waiting.port, 'GET', undefined, {})).status, 405);
  });
});
