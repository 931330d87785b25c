// The mesh root CA in the global controller: sealed in etcd, zone CAs issued
// from CSRs at join, refusals, and a root rotation with an overlap window.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { ControlPlane, GlobalControllerProcess } from './harness/global-controller-process';
import { FederationTestClient } from './harness/federation-test-client';
import { ZoneProcess } from './harness/zone-process';
import { waitFor } from './harness/child-process';
import { freePort } from '../lib/process/free-port';
import { createCsr, formatIdentity, generateKeyPairAsync, readCertificate, verifyChain } from '../lib/pki';

describe('mesh CA', () => {
  const cp = new ControlPlane();
  const clients: FederationTestClient[] = [];
  const zone = () => {
    const c = new FederationTestClient(`127.0.0.1:${cp.primary.grpcPort}`);
    clients.push(c);
    return c;
  };
  let keyPem: string;
  const csrFor = (region: string, role: 'zone' | 'edge' = 'zone') =>
    createCsr({ keyPem, identity: formatIdentity({ trustDomain: 'meridian.local', region, role, name: region }) });

  before(async () => {
    await cp.start(1);
    keyPem = (await generateKeyPairAsync()).privateKeyPem;
  });
  after(async () => {
    for (const c of clients) c.close();
    await cp.stop();
  });

  it('keeps no private key in the clear in etcd', async () => {
    const etcd = new Etcd3({ hosts: cp.etcd.endpoint });
    const all = await etcd.getAll().prefix('').strings();
    etcd.close();
    assert.ok(Object.keys(all).some((k) => k.startsWith('/meridian/system/ca/roots/')), 'the root is stored');
    for (const [key, value] of Object.entries(all)) {
      assert.doesNotMatch(value, /PRIVATE KEY/, `${key} holds a private key in the clear`);
      // The base64 of an unencrypted RSA key (PKCS#8 or PKCS#1) without its PEM armour.
      assert.doesNotMatch(value, /BADANBgkqhkiG9w0BAQEFAAS|AgEAAoIBAQ/, `${key} holds what looks like raw key material`);
    }
  });

  it('signs a zone CA from the CSR in Hello; it chains to the trust bundle', async () => {
    const c = zone();
    c.open({ region: 'fra', joinToken: await cp.token('fra'), zoneCaCsr: csrFor('fra') });
    const welcome = (await c.next((m) => m.message === 'welcome')).welcome!;
    assert.equal(welcome.trustDomain, 'meridian.local');
    const zoneCa = welcome.zoneCa!;
    const info = readCertificate(zoneCa.certificate);
    assert.equal(info.isCa, true);
    assert.equal(info.identity, 'spiffe://meridian.local/region/fra/zone/fra');
    const x = new (await import('node:crypto')).X509Certificate(zoneCa.certificate);
    assert.ok(x.checkIssued(new (await import('node:crypto')).X509Certificate(zoneCa.trustBundle[0]!)));
    assert.equal(verifyChain({ leafPem: zoneCa.certificate, rootPems: zoneCa.trustBundle }).ok, false, 'a zone CA is not a leaf');
    c.close();
  });

  it('refuses a CSR outside the token\'s region and a malformed CSR, with the reason', async () => {
    for (const [what, csr] of [
      ['another region', csrFor('iad')],
      ['a leaf role', csrFor('fra', 'edge')],
      ['garbage', '-----BEGIN CERTIFICATE REQUEST-----\nnot a csr\n-----END CERTIFICATE REQUEST-----\n'],
    ] as const) {
      const c = zone();
      c.open({ region: 'fra', joinToken: await cp.token('fra'), zoneCaCsr: csr });
      const status = await c.ended();
      assert.equal(status.code, grpc.status.PERMISSION_DENIED, `${what}: ${status.details}`);
      assert.match(status.details, /zone CA/);
      c.close();
    }
  });

  it('a zone controller gets its CA at join and keeps its key to itself', async () => {
    const z = await ZoneProcess.create('sin', cp.primary.grpcPort, await cp.token('sin'), cp.dir);
    z.start();
    try {
      await z.waitUp(true);
      const state = await waitFor('zone CA installed', async () => {
        const s = (await (await fetch(`${z.url}/v1/state`)).json()) as { zoneCa: { identity: string } | null };
        return s.zoneCa ?? undefined;
      });
      assert.equal(state.identity, 'spiffe://meridian.local/region/sin/zone/sin');
      // Sealed with the zone's state key, never in the clear.
      const keyFile = path.join(z.stateDir, 'zone-ca', 'key.sealed');
      assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
      assert.doesNotMatch(fs.readFileSync(keyFile, 'utf8'), /PRIVATE KEY/);
      assert.equal(fs.existsSync(path.join(z.stateDir, 'zone-ca', 'key.pem')), false);
      assert.doesNotMatch(z.tail(500), /PRIVATE KEY/, 'the key is never logged');
    } finally {
      await z.stop();
    }
  });

  it('rotates the root with an overlap: both roots are trusted until the old one is retired', async () => {
    const before = (await cp.api('GET', '/v1/ca')).body;
    assert.equal(before.roots.length, 1);
    const rotated = await cp.api('POST', '/v1/ca/rotate');
    assert.equal(rotated.status, 200);
    const during = (await cp.api('GET', '/v1/ca')).body;
    assert.equal(during.trustBundle.length, 2, 'old and new roots trusted together');
    const c = zone();
    c.open({ region: 'fra', joinToken: await cp.token('fra'), zoneCaCsr: csrFor('fra') });
    const zoneCa = (await c.next((m) => m.message === 'welcome')).welcome!.zoneCa!;
    c.close();
    const { X509Certificate } = await import('node:crypto');
    assert.ok(new X509Certificate(zoneCa.certificate).checkIssued(new X509Certificate(during.trustBundle[0])), 'new zone CAs come from the new root');
    assert.equal((await cp.api('DELETE', `/v1/ca/roots/${rotated.body.root.id}`)).status, 409, 'the active root cannot be retired');
    const old = before.roots[0].id;
    assert.equal((await cp.api('DELETE', `/v1/ca/roots/${old}`)).status, 200);
    assert.equal((await cp.api('GET', '/v1/ca')).body.trustBundle.length, 1);
  });

  it('refuses to start with a data key that does not open the stored root, saying why', async () => {
    const dir = fs.mkdtempSync(path.join(cp.dir, 'wrong-key-'));
    fs.copyFileSync(path.join(cp.dir, 'tokens'), path.join(dir, 'tokens'));
    fs.writeFileSync(path.join(dir, 'data.key'), 'f'.repeat(64) + '\n', { mode: 0o600 });
    const gc = new GlobalControllerProcess(await freePort(), await freePort(), cp.etcd.endpoint, dir, 'gc-wrong-key');
    gc.start();
    const code = await waitFor('it to exit', async () => (!gc.running ? 'exited' : undefined), 20_000, 100);
    assert.equal(code, 'exited');
    assert.match(gc.tail(), /data key does not open/);
  });
});
