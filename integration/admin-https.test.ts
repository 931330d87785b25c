// The admin API over HTTPS, against a real global controller on real etcd:
// the certificate issued from the mesh root, the CLI verifying it by CA file
// and by the root's fingerprint and refusing a wrong CA before sending the
// request, the dashboard feed over wss, the CLI refusing plaintext to an
// address off this host, and the controller refusing a plaintext --http off
// loopback at start.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { freePort } from '../lib/process/free-port';
import { certificateFingerprint, generateKeyPair } from '../lib/pki';
import { createRootCa } from '../lib/pki/certificate-authority';
import { issueGlobalServerCertificate } from '../lib/pki/control-plane-certificates';
import { ADMIN_TOKEN, ControlPlane, GlobalControllerProcess, READ_TOKEN } from './harness/global-controller-process';
import { StatusFeedClient } from './harness/status-feed-client';
import { MERIDIAN_BIN } from '../test-support/repo-root';
import { readSamples } from '../test-support/metric-samples';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Nothing from the test's own environment decides which server or trust is used.
    const base = { ...process.env };
    for (const k of ['MERIDIAN_SERVER', 'MERIDIAN_TOKEN', 'MERIDIAN_CA', 'MERIDIAN_CA_FINGERPRINT', 'MERIDIAN_INSECURE']) delete base[k];
    execFile(process.execPath, [MERIDIAN_BIN(), ...args], { env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// How many requests the admin API has answered on a route (its own metric, over loopback).
async function served(gc: GlobalControllerProcess, route: string): Promise<number> {
  const text = await (await fetch(`${gc.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return readSamples(text)
    .filter((s) => s.name === 'meridian_admin_requests_total' && s.labels.route === route)
    .reduce((total, s) => total + s.value, 0);
}

describe('admin API over HTTPS', () => {
  const cp = new ControlPlane();
  let httpsPort = 0;
  let httpsUrl = '';
  let rootPem = '';
  let fingerprint = '';
  let caFile = '';
  let wrongCaFile = '';

  before(async () => {
    httpsPort = await freePort();
    await cp.start(1, '1s', ['--https', `127.0.0.1:${httpsPort}`]);
    httpsUrl = `https://127.0.0.1:${httpsPort}`;
    // What an operator does on the node: fetch the root over loopback and pin it.
    const ca = await cp.api('GET', '/v1/ca');
    rootPem = ca.body.trustBundle[0];
    fingerprint = ca.body.roots[0].fingerprint;
    assert.equal(fingerprint, certificateFingerprint(rootPem), 'GET /v1/ca shows the fingerprint to pin');
    caFile = path.join(cp.dir, 'mesh-root.pem');
    fs.writeFileSync(caFile, rootPem);
    wrongCaFile = path.join(cp.dir, 'another-root.pem');
    fs.writeFileSync(wrongCaFile, createRootCa({ trustDomain: 'meridian.local', validityDays: 1 }).certPem);
  });
  after(() => cp.stop());

  it("serves the global controller's certificate from the mesh root, for 127.0.0.1 and localhost, sent with the root", async () => {
    const chain = await new Promise<X509Certificate[]>((resolve, reject) => {
      const req = https.get(`${httpsUrl}/healthz`, { ca: rootPem, agent: false }, (res) => {
        const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate(true);
        res.resume();
        resolve([new X509Certificate(peer.raw), new X509Certificate(peer.issuerCertificate.raw)]);
      });
      req.on('error', reject);
    });
    assert.match(chain[0]!.subjectAltName ?? '', /URI:spiffe:\/\/meridian\.local\/region\/global\/global\/controller/);
    assert.match(chain[0]!.subjectAltName ?? '', /DNS:localhost/);
    assert.match(chain[0]!.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(certificateFingerprint(chain[1]!.raw), fingerprint, 'the root is sent along, for pinning');
  });

  it('the CLI verifies it by --ca-file and MERIDIAN_CA, for the address and for localhost', async () => {
    const byFlag = await cli(['get', 'regions', '-o', 'json', '--server', httpsUrl, '--ca-file', caFile], { MERIDIAN_TOKEN: READ_TOKEN });
    assert.equal(byFlag.code, 0, byFlag.stderr);
    assert.equal(JSON.parse(byFlag.stdout).kind, 'List');
    const byEnv = await cli(['get', 'regions'], { MERIDIAN_SERVER: `https://localhost:${httpsPort}`, MERIDIAN_TOKEN: READ_TOKEN, MERIDIAN_CA: caFile });
    assert.equal(byEnv.code, 0, byEnv.stderr);
  });

  it('the CLI verifies it by the root fingerprint, and token create prints that fingerprint', async () => {
    const got = await cli(['get', 'regions', '--server', httpsUrl, '--ca-fingerprint', fingerprint], { MERIDIAN_TOKEN: READ_TOKEN });
    assert.equal(got.code, 0, got.stderr);
    const token = await cli(['token', 'create', '--region', 'fra'], { MERIDIAN_SERVER: httpsUrl, MERIDIAN_TOKEN: ADMIN_TOKEN, MERIDIAN_CA_FINGERPRINT: fingerprint });
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^mzt1\.[\w-]+\.[\w-]+$/);
    assert.ok(token.stderr.includes(`mesh root CA: ${fingerprint}`), token.stderr);
  });

  it('the CLI refuses a wrong CA file, a wrong fingerprint and an unknown CA with a clear error, and no request reaches the API', async () => {
    const before = await served(cp.primary, 'regions');
    const wrongFile = await cli(['get', 'regions', '--server', httpsUrl, '--ca-file', wrongCaFile], { MERIDIAN_TOKEN: ADMIN_TOKEN });
    assert.equal(wrongFile.code, 1);
    assert.equal(wrongFile.stdout, '');
    assert.match(wrongFile.stderr, new RegExp(`^error: the server's certificate is not signed by the CA in --ca-file ${wrongCaFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`));
    assert.equal(wrongFile.stderr.trim().split('\n').length, 1);

    const otherPin = certificateFingerprint(fs.readFileSync(wrongCaFile, 'utf8'));
    const wrongPin = await cli(['get', 'regions', '--server', httpsUrl, '--ca-fingerprint', otherPin], { MERIDIAN_TOKEN: ADMIN_TOKEN });
    assert.equal(wrongPin.code, 1);
    assert.match(wrongPin.stderr, new RegExp(`^error: cannot trust the global controller at ${httpsUrl}: the server's certificate chain does not contain the root CA ${otherPin}`));

    const system = await cli(['get', 'regions', '--server', httpsUrl], { MERIDIAN_TOKEN: ADMIN_TOKEN });
    assert.equal(system.code, 1);
    assert.match(system.stderr, /^error: the server's certificate at .* is not signed by a CA this system trusts \(\w+\); give --ca-file FILE/);

    // The API never saw them: the handshake ended before the request.
    assert.equal(await served(cp.primary, 'regions'), before);
  });

  it('the CLI refuses plaintext to an address off this host before connecting', async () => {
    // 192.0.2.10 (TEST-NET-1): the refusal names the address; an attempt would
    // have ended in "cannot reach" or a timeout instead.
    const refused = await cli(['get', 'regions'], { MERIDIAN_SERVER: 'http://192.0.2.10:7401', MERIDIAN_TOKEN: ADMIN_TOKEN });
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: refusing plaintext http to http:\/\/192\.0\.2\.10:7401: the token would cross the network in clear; use https:\/\/192\.0\.2\.10:7401 .* or give --insecure/);
    // Plaintext on loopback stays allowed.
    const local = await cli(['get', 'regions'], { MERIDIAN_SERVER: cp.primary.url, MERIDIAN_TOKEN: READ_TOKEN });
    assert.equal(local.code, 0, local.stderr);
    // (--insecure lifting the refusal is a unit test, cli/admin-client.test.ts: here it would send packets to 192.0.2.10.)
  });

  it('serves the dashboard and its WebSocket feed over HTTPS', async () => {
    const page = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get(`${httpsUrl}/dashboard`, { ca: rootPem, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    const feed = await StatusFeedClient.open(`wss://127.0.0.1:${httpsPort}/v1/status/ws`, [`bearer.${READ_TOKEN}`], { ca: rootPem });
    try {
      const first = await feed.next(() => true, 10_000);
      assert.ok(Array.isArray(first.status.regions));
    } finally {
      feed.close();
    }
    const refused = await new Promise<Error>((resolve) => {
      StatusFeedClient.open(`wss://127.0.0.1:${httpsPort}/v1/status/ws`, [`bearer.${READ_TOKEN}`], { ca: fs.readFileSync(wrongCaFile, 'utf8') }).then(
        (c) => {
          c.close();
          resolve(new Error('accepted'));
        },
        resolve,
      );
    });
    assert.match(refused.message, /self[- ]signed|unable to verify|certificate/i);
  });

  it('serves a certificate from --https-cert/--https-key files instead', async () => {
    const root = createRootCa({ trustDomain: 'meridian.local', validityDays: 1 });
    const key = generateKeyPair();
    const leaf = issueGlobalServerCertificate({ caCertPem: root.certPem, caKeyPem: root.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: 'meridian.local', lifetimeMs: 3_600_000, hosts: ['127.0.0.1'] });
    const certFile = path.join(cp.dir, 'own.crt');
    const keyFile = path.join(cp.dir, 'own.key');
    fs.writeFileSync(certFile, leaf.certPem);
    fs.writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
    const ownCa = path.join(cp.dir, 'own-ca.pem');
    fs.writeFileSync(ownCa, root.certPem);
    const port = await freePort();
    const gc = new GlobalControllerProcess(await freePort(), await freePort(), cp.etcd.endpoint, cp.dir, 'gc-files', '1s', ['--https', `127.0.0.1:${port}`, '--https-cert', certFile, '--https-key', keyFile]);
    gc.start();
    try {
      await gc.ready();
      const ok = await cli(['get', 'regions', '--server', `https://127.0.0.1:${port}`, '--ca-file', ownCa], { MERIDIAN_TOKEN: READ_TOKEN });
      assert.equal(ok.code, 0, ok.stderr);
      const meshRoot = await cli(['get', 'regions', '--server', `https://127.0.0.1:${port}`, '--ca-file', caFile], { MERIDIAN_TOKEN: READ_TOKEN });
      assert.equal(meshRoot.code, 1, 'the mesh root did not sign this one');
      assert.match(meshRoot.stderr, /not signed by the CA in --ca-file/);
    } finally {
      await gc.stop();
    }
  });

  it('refuses to start with a plaintext --http off loopback, pointing at --https', async () => {
    const port = await freePort();
    const run = await cli([
      'global-controller', '--etcd', cp.etcd.endpoint, '--grpc', `127.0.0.1:${await freePort()}`, '--http', `0.0.0.0:${port}`,
      '--tokens-file', path.join(cp.dir, 'tokens'), '--data-key-file', path.join(cp.dir, 'data.key'),
    ]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`--http 0\\.0\\.0\\.0:${port}: plaintext admin API only on loopback .* --https 0\\.0\\.0\\.0:${port}`));
  });
});
