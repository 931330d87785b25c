// Workload certificates against real processes (etcd, the global
// controller, a zone controller): `meridian workload-cert` gets a
// certificate for a key it made, named by the instance token's region and
// service, chaining through the zone CA to the mesh root the admin API
// shows; the key file is the workload's alone; the zone refuses a token of
// another service and logs and counts what it issues.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { waitFor } from './harness/child-process';
import { MERIDIAN_BIN, repoRoot } from '../test-support/repo-root';
import { findSample, readSamples } from '../test-support/metric-samples';
import { parseDocuments } from '../lib/resources';
import { LEAF_ROLES, readCertificate, requestWorkloadCertificate, verifyChain, WORKLOAD_ROLE, WorkloadCertificateRequestError } from '../lib/pki';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MERIDIAN_BIN(), ...args], { timeout: 30_000, env: { ...process.env, MERIDIAN_INSTANCE_TOKEN: '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const apiService = `apiVersion: meridian.dev/v1
kind: Service
metadata: {name: api}
spec: {hosts: [api.example.com]}
`;
const ECHO_IDENTITY = 'spiffe://meridian.local/region/fra/service/echo';
const CERTIFICATES = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

describe('workload certificates', () => {
  const cp = new ControlPlane();
  let zone: ZoneProcess;
  let echoToken: string;
  let tokenFile: string;

  before(async () => {
    await cp.start(1);
    const docs = ['regions.yaml', 'echo.yaml'].flatMap((f) => parseDocuments(fs.readFileSync(path.join(repoRoot(), 'examples', f), 'utf8'), f));
    docs.push(...parseDocuments(apiService, 'api.yaml'));
    assert.equal((await cp.api('POST', '/v1/apply', docs)).status, 200);
    zone = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir);
    zone.start();
    await zone.waitUp(true);
    echoToken = (await cp.instanceToken('fra', 'echo')).token;
    tokenFile = path.join(cp.dir, 'echo.instance-token');
    fs.writeFileSync(tokenFile, `${echoToken}\n`, { mode: 0o600 });
    // A zone just welcomed may not hold its CA certificate or the instance
    // token policy yet (503, 401): wait until it issues.
    await waitFor('the zone to issue workload certificates', async () => {
      try {
        return await requestWorkloadCertificate({ zone: zone.url, token: echoToken, service: 'echo' });
      } catch (err) {
        if (err instanceof WorkloadCertificateRequestError && (err.status === 503 || err.status === 401)) return undefined;
        throw err;
      }
    }, 20_000, 200);
  });

  after(async () => {
    await zone?.stop();
    await cp.stop();
  });

  it('meridian workload-cert writes a chain to the mesh root for the token\'s service, the key 0600, and the roots', async () => {
    const out = path.join(cp.dir, 'echo-mesh');
    const run = await cli(['workload-cert', '--zone', zone.url, '--token-file', tokenFile, '--service', 'echo', '--out', out, '--region', 'fra']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${ECHO_IDENTITY}\\n  expires \\d{4}-.*Z \\(renew before .*Z\\)\\n  wrote `));

    const chainPem = fs.readFileSync(path.join(out, 'cert.pem'), 'utf8');
    const [leafPem, zoneCaPem, ...rest] = chainPem.match(CERTIFICATES) ?? [];
    assert.ok(leafPem && zoneCaPem && rest.length === 0, 'cert.pem holds the leaf and the zone CA');
    const leaf = readCertificate(leafPem);
    assert.deepEqual(leaf.uris, [ECHO_IDENTITY]);
    assert.equal(readCertificate(zoneCaPem).identity, 'spiffe://meridian.local/region/fra/zone/fra');
    const lifeHours = (leaf.notAfter.getTime() - Date.now()) / 3_600_000;
    assert.ok(lifeHours > 23 && lifeHours <= 24, `the zone's leaf lifetime (24 h), got ${lifeHours} h`);

    // The mesh root as the admin API shows it, not as the zone sent it.
    const meshRoots: string[] = (await cp.api('GET', '/v1/ca')).body.trustBundle;
    const verified = verifyChain({ leafPem, chainPems: [zoneCaPem], rootPems: meshRoots, leafRoles: [...LEAF_ROLES, WORKLOAD_ROLE] });
    assert.deepEqual(verified, { ok: true, identity: ECHO_IDENTITY, serial: leaf.serial, notAfter: leaf.notAfter });
    assert.deepEqual(fs.readFileSync(path.join(out, 'ca.pem'), 'utf8').match(CERTIFICATES)?.map((p) => p.trim()), meshRoots.map((p) => p.trim()));

    const keyFile = path.join(out, 'key.pem');
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(new X509Certificate(leafPem).checkPrivateKey(createPrivateKey(fs.readFileSync(keyFile, 'utf8'))), 'key.pem is the certificate\'s key');
    assert.doesNotMatch(zone.tail(500), /PRIVATE KEY/, 'the key never reaches the zone');
    await waitFor('the issuance in the zone log', () => zone.tail(500).includes(leaf.serial) && /workload certificate issued/.test(zone.tail(500)));
  });

  it('renewing replaces the files in place, never writing through a link left at key.pem; an EC P-256 key works too', async () => {
    const out = path.join(cp.dir, 'renew');
    assert.equal((await cli(['workload-cert', '--zone', zone.url, '--token', echoToken, '--service', 'echo', '--out', out])).code, 0);
    const first = fs.readFileSync(path.join(out, 'cert.pem'), 'utf8');
    const elsewhere = path.join(cp.dir, 'not-the-key');
    fs.writeFileSync(elsewhere, 'untouched\n');
    fs.rmSync(path.join(out, 'key.pem'));
    fs.symlinkSync(elsewhere, path.join(out, 'key.pem'));

    const again = await cli(['workload-cert', '--zone', zone.url, '--service', 'echo', '--out', out, '--key-type', 'ec'], { MERIDIAN_INSTANCE_TOKEN: echoToken });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fs.readFileSync(elsewhere, 'utf8'), 'untouched\n');
    const key = fs.lstatSync(path.join(out, 'key.pem'));
    assert.ok(key.isFile(), 'key.pem is a file again, not the link');
    assert.equal(key.mode & 0o777, 0o600);
    const renewed = fs.readFileSync(path.join(out, 'cert.pem'), 'utf8');
    assert.notEqual(renewed, first);
    const renewedLeaf = new X509Certificate(renewed);
    assert.equal(renewedLeaf.publicKey.asymmetricKeyType, 'ec');
    assert.ok(renewedLeaf.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(out, 'key.pem'), 'utf8'))));
    const meshRoots: string[] = (await cp.api('GET', '/v1/ca')).body.trustBundle;
    const [leafPem, ...chain] = renewed.match(CERTIFICATES)!;
    assert.equal(verifyChain({ leafPem: leafPem!, chainPems: chain, rootPems: meshRoots, leafRoles: [WORKLOAD_ROLE] }).ok, true);
    assert.deepEqual(fs.readdirSync(out).sort(), ['ca.pem', 'cert.pem', 'key.pem'], 'no temporary file left');
  });

  it('refuses a token of another service (403) and a zone of another region than --region, writing nothing', async () => {
    const apiToken = (await cp.instanceToken('fra', 'api')).token;
    await assert.rejects(requestWorkloadCertificate({ zone: zone.url, token: apiToken, service: 'echo' }), (err: unknown) => {
      assert.ok(err instanceof WorkloadCertificateRequestError);
      assert.equal(err.status, 403);
      assert.match(err.message, /is for service 'api', not 'echo'/);
      return true;
    });
    const out = path.join(cp.dir, 'wrong-region');
    const wrong = await cli(['workload-cert', '--zone', zone.url, '--token-file', tokenFile, '--service', 'echo', '--out', out, '--region', 'iad']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /is of region fra, not iad \(--region\): nothing written/);
    assert.equal(fs.existsSync(out), false);

    const missing = await cli(['workload-cert', '--zone', zone.url, '--service', 'echo', '--out', out]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /needs an instance token: --token-file FILE/);

    const metrics = readSamples(await (await fetch(`${zone.url}/metrics`)).text());
    assert.ok((findSample(metrics, 'meridian_zone_workload_certificates_total', { outcome: 'issued' })?.value ?? 0) >= 4);
    assert.equal(findSample(metrics, 'meridian_zone_workload_certificates_total', { outcome: 'forbidden' })?.value, 1);
  });
});
