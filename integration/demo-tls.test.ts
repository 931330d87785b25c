// The demo's TLS, end to end with the real processes: control streams over
// mTLS, a Certificate resource served by the edges by SNI (and re-served
// when it changes), no private key in the clear in etcd, and the edges'
// HTTPS port offering TLS 1.2 and 1.3 only, without weak ciphers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { DemoProcess } from './harness/demo-process';
import { waitFor } from './harness/child-process';
import * as path from 'node:path';
import { discoveryProto, federationProto } from '../lib/grpc/protos';
import { fetchPinnedRoot } from '../lib/grpc/pinned-root';
import { meshChannelCredentials, meshChannelOptions } from '../lib/grpc/mesh-credentials';
import { readProxyToken } from '../lib/auth/proxy-token';
import { createSelfSignedCertificate } from '../lib/pki';
import type { DemoEndpoints } from '../cli/demo/demo-runner';

const PORT_OFFSET = 2300;

type Handshake = { ok: true; protocol: string; cipher: string; subject: string } | { ok: false; error: string };

function handshake(address: string, options: tls.ConnectionOptions): Promise<Handshake> {
  const [host, port] = [address.replace(/:\d+$/, ''), Number(address.split(':').pop())];
  return new Promise((resolve) => {
    const s = tls.connect({ host, port, rejectUnauthorized: false, ...options }, () => {
      resolve({ ok: true, protocol: String(s.getProtocol()), cipher: s.getCipher().name, subject: String(s.getPeerCertificate().subject?.CN) });
      s.destroy();
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: `${err.code ?? ''} ${err.message}` }));
  });
}

// Whether Node's OpenSSL can offer the cipher at all (RC4, 3DES and EXPORT
// are not built into Node 20's OpenSSL 3: no client of it can negotiate them).
function canOffer(ciphers: string): boolean {
  try {
    tls.createSecureContext({ ciphers });
    return true;
  } catch {
    return false;
  }
}

describe('demo TLS', () => {
  const demo = new DemoProcess(PORT_OFFSET);
  let e: DemoEndpoints;
  const api = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(`${e.admin.url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${e.admin.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  let shop: { certPem: string; keyPem: string };

  before(async () => {
    e = await demo.start();
    shop = await createSelfSignedCertificate({ commonName: 'shop.example.com', dnsNames: ['shop.example.com', 'www.shop.example.com'] });
  });
  after(async () => {
    await demo.stop();
  });

  it('runs the federation streams over mTLS and refuses plaintext on the federation port', async () => {
    for (const [name, r] of Object.entries(e.regions)) {
      const state = await waitFor(`${name} federated over mTLS`, async () => {
        const s = (await (await fetch(`${r.zoneController}/v1/state`)).json()) as { federated: boolean; federationTls: { clientCertificate: boolean } };
        return s.federated && s.federationTls.clientCertificate ? s : undefined;
      });
      assert.equal(state.federationTls.clientCertificate, true, name);
    }
    const Federation = federationProto().meridian.federation.v1.Federation;
    const plain = new Federation(e.federation, grpc.credentials.createInsecure());
    const call = plain.Sync();
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write({ hello: { region: 'fra', joinToken: 'x' } });
    assert.equal((await status).code, grpc.status.UNAVAILABLE);
    plain.close();
  });

  it('runs discovery over mTLS: no plaintext, no stream without a leaf, no certificate call without the token', async () => {
    const fra = e.regions.fra!;
    const Discovery = discoveryProto().meridian.discovery.v1.Discovery;
    const watch = (client: InstanceType<typeof Discovery>) =>
      new Promise<grpc.StatusObject>((resolve) => {
        const call = client.Watch({ region: 'fra', proxy: 'intruder', mode: 'edge' });
        call.on('data', () => undefined);
        call.on('error', () => undefined);
        call.on('status', resolve);
      });
    const plain = new Discovery(fra.discovery, grpc.credentials.createInsecure());
    assert.equal((await watch(plain)).code, grpc.status.UNAVAILABLE);
    plain.close();

    const token = readProxyToken(path.join(e.dataDir, 'fra.proxy-token'), 'proxy token');
    const root = await fetchPinnedRoot(fra.discovery, token.rootFingerprint);
    const zone = { trustDomain: 'meridian.local', roles: ['zone' as const], region: 'fra' };
    const noLeaf = new Discovery(fra.discovery, meshChannelCredentials({ rootsPem: [root] }, zone), meshChannelOptions(fra.discovery));
    const refused = await watch(noLeaf);
    assert.equal(refused.code, grpc.status.UNAUTHENTICATED, refused.details);
    assert.match(refused.details, /leaf certificate of an edge or ingress of region fra is required/);
    const issue = await new Promise<grpc.ServiceError | null>((resolve) => noLeaf.DescribeIdentity({ proxy: 'intruder', mode: 'edge' }, (err) => resolve(err)));
    assert.equal(issue?.code, grpc.status.UNAUTHENTICATED, 'a certificate call without the proxy token');
    noLeaf.close();
    // The demo's own proxies hold leaves and are connected.
    const state = (await (await fetch(`${fra.zoneController}/v1/state`)).json()) as { discoveryTls: { serving: boolean }; proxies: { proxy: string }[] };
    assert.equal(state.discoveryTls.serving, true);
    assert.deepEqual(state.proxies.map((p) => p.proxy).sort(), ['edge-fra', 'ingress-fra']);
  });

  it('serves an applied Certificate by SNI on every edge, and the new one after a change; the API never returns the key', async () => {
    const doc = (pair: { certPem: string; keyPem: string }) => ({
      apiVersion: 'meridian.dev/v1',
      kind: 'Certificate',
      metadata: { name: 'shop' },
      spec: { hosts: ['shop.example.com', 'www.shop.example.com'], certificate: pair.certPem, privateKey: pair.keyPem },
    });
    const applied = Date.now();
    const res = await api('POST', '/v1/apply', [doc(shop)]);
    assert.equal(res.status, 200, res.text);
    for (const [name, r] of Object.entries(e.regions)) {
      await waitFor(`${name} edge serving shop.example.com`, async () => {
        const h = await handshake(r.edge!.https, { servername: 'shop.example.com' });
        return h.ok && h.subject === 'shop.example.com' ? h : undefined;
      }, 10_000, 50);
    }
    console.log(`# Certificate applied -> served by all three edges in ${Date.now() - applied} ms`);
    const other = await handshake(e.regions.fra!.edge!.https, { servername: 'echo.example.com' });
    assert.ok(other.ok && other.subject === 'echo.mesh', 'other names keep the default certificate');

    const shown = await api('GET', '/v1/resources/certificates/shop');
    assert.equal(shown.status, 200);
    assert.doesNotMatch(shown.text, /PRIVATE KEY|ciphertext/);
    assert.match(JSON.parse(shown.text).spec.privateKey, /sealed/);

    // A renewed certificate under the same name replaces the old one.
    const renewed = await createSelfSignedCertificate({ commonName: 'shop.example.com', dnsNames: ['shop.example.com', 'www.shop.example.com'], validityDays: 30 });
    assert.equal((await api('POST', '/v1/apply', [doc(renewed)])).status, 200);
    const renewedSerial = new (await import('node:crypto')).X509Certificate(renewed.certPem).serialNumber;
    await waitFor('the renewed certificate', async () => {
      const s = tls.connect({ host: '127.0.0.1', port: Number(e.regions.iad!.edge!.https.split(':')[1]), servername: 'shop.example.com', rejectUnauthorized: false });
      const serial = await new Promise<string>((resolve) => {
        s.once('secureConnect', () => resolve(s.getPeerCertificate().serialNumber));
        s.once('error', () => resolve(''));
      });
      s.destroy();
      return serial === renewedSerial || undefined;
    }, 10_000, 50);
    shop = renewed;
  });

  it('keeps no private key in the clear in etcd (PEM, base64 DER or raw DER)', async () => {
    const etcd = new Etcd3({ hosts: e.etcd });
    const all = await etcd.getAll().prefix('').buffers();
    etcd.close();
    const keys = Object.keys(all);
    assert.ok(keys.some((k) => k.startsWith('/meridian/system/ca/roots/')), 'the root CA is stored');
    assert.ok(keys.some((k) => k.endsWith('Certificate/shop')), 'the Certificate is stored');
    const shopDer = createPrivateKey(shop.keyPem).export({ type: 'pkcs8', format: 'der' });
    const shopBase64 = shopDer.subarray(40, 100).toString('base64');
    // PKCS#8 RSA (version 0, rsaEncryption) and PKCS#1 RSA prefixes, as bytes.
    const derPrefixes = [Buffer.from('020100300d06092a864886f70d0101010500', 'hex'), Buffer.from('0201000282010100', 'hex')];
    for (const [key, value] of Object.entries(all)) {
      const text = value.toString('utf8');
      assert.doesNotMatch(text, /PRIVATE KEY/, `${key} holds a PEM private key`);
      assert.doesNotMatch(text, /BADANBgkqhkiG9w0BAQEFAAS|AgEAAoIBAQ/, `${key} holds base64 of a DER private key`);
      assert.ok(!text.includes(shopBase64), `${key} holds the Certificate's key material in base64`);
      for (const prefix of derPrefixes) assert.ok(!value.includes(prefix), `${key} holds a DER private key`);
      assert.ok(!value.includes(shopDer.subarray(40, 100)), `${key} holds the Certificate's key material`);
    }
    console.log(`# ${keys.length} etcd values checked`);
  });

  it('offers TLS 1.2 and 1.3 only on the edge HTTPS port, and no weak TLS 1.2 cipher', async () => {
    const edge = e.regions.fra!.edge!.https;
    // A permissive server shows each refused handshake is the edge's choice, not the client's.
    const permissive = tls.createServer({ cert: shop.certPem, key: shop.keyPem, minVersion: 'TLSv1', ciphers: 'ALL:eNULL:@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((r) => permissive.listen(0, '127.0.0.1', r));
    const control = `127.0.0.1:${(permissive.address() as { port: number }).port}`;
    try {
      for (const version of ['TLSv1', 'TLSv1.1'] as const) {
        const options = { minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' };
        assert.equal((await handshake(control, options)).ok, true, `control: ${version} possible`);
        const h = await handshake(edge, options);
        assert.equal(h.ok, false, `${version} accepted: ${JSON.stringify(h)}`);
      }
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const h = await handshake(edge, { minVersion: version, maxVersion: version, servername: 'echo.example.com' });
        assert.ok(h.ok && h.protocol === version, `${version}: ${JSON.stringify(h)}`);
        t(`${version}: ${h.ok ? h.cipher : ''}`);
      }
      // NULL, static-RSA key exchange, CBC with SHA-1 or SHA-256; then RC4, 3DES, EXPORT.
      const weak = ['NULL-SHA256', 'AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-RSA-AES128-SHA256', 'RC4-SHA', 'DES-CBC3-SHA', 'EXP-RC4-MD5'];
      let tried = 0;
      for (const cipher of weak) {
        const ciphers = `${cipher}:@SECLEVEL=0`;
        if (!canOffer(ciphers)) {
          t(`${cipher}: not in Node's OpenSSL, no client here can offer it`);
          continue;
        }
        const options = { maxVersion: 'TLSv1.2' as const, ciphers };
        assert.equal((await handshake(control, options)).ok, true, `control: ${cipher} possible`);
        const h = await handshake(edge, options);
        assert.equal(h.ok, false, `${cipher} accepted: ${JSON.stringify(h)}`);
        tried++;
      }
      assert.ok(tried >= 7, `${tried} weak ciphers tried`);
    } finally {
      permissive.close();
    }
  });
});

function t(line: string): void {
  console.log(`# ${line}`);
}
