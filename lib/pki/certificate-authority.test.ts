import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createRootCa, issueIntermediate, issueLeaf, type RootCa } from './certificate-authority';
import { readCertificate } from './certificate';
import { createCsr } from './csr';
import { generateKeyPair, generateKeyPairAsync, ROOT_RSA_KEY_BITS, type KeyPairPem } from './keys';
import { CLOCK_SKEW_MS } from './sign-certificate';
import { assertPkiError, DAY_MS, HOUR_MS, makeLeaf, makeRoot, makeZone, TD, type Zone } from '../../test-support/pki-fixtures';

// X.509 times are whole seconds, rounded down.
function between(actual: Date, from: number, to: number): void {
  const ok = actual.getTime() >= from - 1000 && actual.getTime() <= to;
  assert.ok(ok, `${actual.toISOString()} is not between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
}

describe('certificate authority', () => {
  let root: RootCa;
  let fra: Zone;
  let key: KeyPairPem;
  const csr = (identity: string, dnsNames?: string[]) => createCsr({ keyPem: key.privateKeyPem, identity, dnsNames });
  const leafFor = (identity: string, extra: { dnsNames?: string[]; zone?: Zone; allowedRegion?: string; lifetimeMs?: number } = {}) => {
    const zone = extra.zone ?? fra;
    return issueLeaf({
      caCertPem: zone.certPem,
      caKeyPem: zone.keyPem,
      csrPem: csr(identity, extra.dnsNames),
      allowedRegion: extra.allowedRegion ?? zone.region,
      trustDomain: TD,
      lifetimeMs: extra.lifetimeMs ?? HOUR_MS,
    });
  };
  const zoneCaFor = (identity: string, region = 'fra', dnsNames?: string[]) =>
    issueIntermediate({ caCertPem: root.certPem, caKeyPem: root.keyPem, csrPem: csr(identity, dnsNames), region, trustDomain: TD, validityHours: 24 });

  let rootMade: [number, number];
  before(() => {
    const start = Date.now();
    root = makeRoot();
    rootMade = [start, Date.now()];
    fra = makeZone(root, 'fra');
    key = generateKeyPair();
  });

  describe('root', () => {
    it('is a self-signed CA for the trust domain', () => {
      const cert = readCertificate(root.certPem);
      assert.equal(cert.isCa, true);
      assert.equal(cert.pathLen, 1);
      assert.deepEqual(cert.uris, [`spiffe://${TD}`]);
      assert.equal(cert.x509.checkIssued(cert.x509), true);
      assert.equal(cert.x509.verify(cert.x509.publicKey), true);
      assert.equal(cert.x509.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
      assert.match(cert.x509.subject, /^CN=Meridian root CA [0-9a-f]{8}\n/);
      assert.match(root.keyPem, /^-----BEGIN PRIVATE KEY-----/);
      between(cert.notBefore, rootMade[0] - CLOCK_SKEW_MS, rootMade[1] - CLOCK_SKEW_MS);
      between(cert.notAfter, rootMade[0] + 365 * DAY_MS, rootMade[1] + 365 * DAY_MS);
    });

    it('can be made from a key generated off the event loop', async () => {
      const key = await generateKeyPairAsync(ROOT_RSA_KEY_BITS);
      const made = createRootCa({ trustDomain: TD, validityDays: 30, keyPem: key.privateKeyPem });
      assert.equal(made.keyPem, key.privateKeyPem);
      assert.equal(new X509Certificate(made.certPem).publicKey.export({ type: 'spki', format: 'pem' }), key.publicKeyPem);
      assertPkiError(() => createRootCa({ trustDomain: TD, validityDays: 30, keyPem: 'nope' }), 'invalid-key', /root key is not a readable PEM private key/);
    });

    it('two roots never share a name (rotation overlap)', () => {
      assert.notEqual(new X509Certificate(makeRoot().certPem).subject, new X509Certificate(root.certPem).subject);
    });
  });

  describe('zone intermediate', () => {
    it('is a CA that can sign leaves only, for its region', () => {
      const zone = readCertificate(fra.certPem);
      assert.equal(zone.isCa, true);
      assert.equal(zone.pathLen, 0);
      assert.equal(zone.identity, `spiffe://${TD}/region/fra/zone/zc-fra`);
      assert.equal(zone.x509.checkIssued(new X509Certificate(root.certPem)), true);
      assert.equal(zone.x509.verify(new X509Certificate(root.certPem).publicKey), true);
    });

    it('is refused for another region, role or trust domain, or with DNS names', () => {
      assertPkiError(() => zoneCaFor(`spiffe://${TD}/region/iad/zone/zc-1`), 'csr-refused', `CSR asks for identity spiffe://${TD}/region/iad/zone/zc-1, outside region fra`);
      assertPkiError(() => zoneCaFor(`spiffe://${TD}/region/fra/edge/zc-1`), 'csr-refused', /with role edge; a zone CA must have role zone/);
      assertPkiError(() => zoneCaFor('spiffe://other.local/region/fra/zone/zc-1'), 'csr-refused', /outside trust domain meridian.local/);
      assertPkiError(() => zoneCaFor(`spiffe://${TD}/region/fra/zone/zc-1`, 'fra', ['zc-1.fra.mesh.internal']), 'csr-refused', /DNS names zc-1.fra.mesh.internal; a zone CA carries only/);
    });

    it('cannot be issued by a zone CA', () => {
      assertPkiError(
        () => issueIntermediate({ caCertPem: fra.certPem, caKeyPem: fra.keyPem, csrPem: csr(`spiffe://${TD}/region/fra/zone/zc-2`), region: 'fra', trustDomain: TD, validityHours: 1 }),
        'invalid-ca',
        /is the zone CA .*; only the root issues zone CAs/,
      );
    });

    it('is refused when the caller names another trust domain than the root', () => {
      assertPkiError(
        () => issueIntermediate({ caCertPem: root.certPem, caKeyPem: root.keyPem, csrPem: csr('spiffe://other.local/region/fra/zone/z'), region: 'fra', trustDomain: 'other.local', validityHours: 1 }),
        'invalid-ca',
        /belongs to trust domain meridian.local, not other.local/,
      );
    });
  });

  describe('leaf', () => {
    it('is an mTLS certificate for the identity the CSR asked for', () => {
      const start = Date.now();
      const issued = leafFor(`spiffe://${TD}/region/fra/ingress/in-1`, { dnsNames: ['in-1.fra.mesh.internal'], lifetimeMs: 3 * HOUR_MS });
      const end = Date.now();
      const cert = readCertificate(issued.certPem);
      assert.equal(cert.isCa, false);
      assert.equal(cert.identity, `spiffe://${TD}/region/fra/ingress/in-1`);
      assert.deepEqual(cert.dnsNames, ['in-1.fra.mesh.internal']);
      assert.deepEqual(cert.x509.keyUsage.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // serverAuth, clientAuth
      assert.equal(cert.x509.checkPrivateKey(createPrivateKey(key.privateKeyPem)), true);
      assert.equal(cert.x509.verify(new X509Certificate(fra.certPem).publicKey), true);
      // a minute of clock skew before, the lifetime after
      between(cert.notBefore, start - CLOCK_SKEW_MS, end - CLOCK_SKEW_MS);
      between(cert.notAfter, start + 3 * HOUR_MS, end + 3 * HOUR_MS);
      assert.deepEqual([issued.notBefore, issued.notAfter, issued.serial], [cert.notBefore, cert.notAfter, cert.serial]);
    });

    it('has a random 128-bit serial', () => {
      const serials = new Set([1, 2, 3, 4].map(() => leafFor(`spiffe://${TD}/region/fra/edge/e-1`).serial));
      assert.equal(serials.size, 4);
      for (const serial of serials) assert.match(serial, /^[4-7][0-9a-f]{31}$/);
    });

    it('is refused for an identity outside the zone\u2019s region', () => {
      assertPkiError(() => leafFor(`spiffe://${TD}/region/iad/edge/x`), 'csr-refused', `CSR asks for identity spiffe://${TD}/region/iad/edge/x, outside region fra`);
    });

    it('is refused for roles global and zone', () => {
      assertPkiError(() => leafFor(`spiffe://${TD}/region/fra/global/g-1`), 'csr-refused', /with role global; leaf certificates are issued only for roles edge and ingress/);
      assertPkiError(() => leafFor(`spiffe://${TD}/region/fra/zone/z-1`), 'csr-refused', /with role zone; leaf/);
    });

    it('is refused for another trust domain', () => {
      assertPkiError(() => leafFor('spiffe://other.local/region/fra/edge/x'), 'csr-refused', /outside trust domain meridian.local/);
    });

    it('carries only its own mesh DNS name', () => {
      assertPkiError(
        () => leafFor(`spiffe://${TD}/region/fra/edge/e-1`, { dnsNames: ['e-1.fra.mesh.internal', 'api.example.com', 'e-2.fra.mesh.internal'] }),
        'csr-refused',
        `CSR asks for DNS names api.example.com, e-2.fra.mesh.internal, outside what spiffe://${TD}/region/fra/edge/e-1 may carry: e-1.fra.mesh.internal`,
      );
    });

    it('is refused for a malformed CSR', () => {
      const base = { caCertPem: fra.certPem, caKeyPem: fra.keyPem, allowedRegion: 'fra', trustDomain: TD, lifetimeMs: HOUR_MS };
      assertPkiError(() => issueLeaf({ ...base, csrPem: 'not a csr' }), 'invalid-csr', /^malformed CSR: not PEM text/);
      const good = csr(`spiffe://${TD}/region/fra/edge/e-1`);
      const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 1] ^= 0xff; // last byte of the signature
      const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      assertPkiError(() => issueLeaf({ ...base, csrPem: bad }), 'invalid-csr', /signature does not verify/);
    });

    it('is refused when the CA material is wrong', () => {
      const base = { csrPem: csr(`spiffe://${TD}/region/fra/edge/e-1`), allowedRegion: 'fra', trustDomain: TD, lifetimeMs: HOUR_MS };
      assertPkiError(() => issueLeaf({ ...base, caCertPem: fra.certPem, caKeyPem: key.privateKeyPem }), 'invalid-ca', /CA key does not belong to the CA certificate/);
      assertPkiError(() => issueLeaf({ ...base, caCertPem: fra.certPem, caKeyPem: 'x' }), 'invalid-ca', /CA key is not a readable PEM private key/);
      assertPkiError(() => issueLeaf({ ...base, caCertPem: 'x', caKeyPem: fra.keyPem }), 'invalid-ca', /CA certificate is not a readable X.509 certificate/);
      const leaf = makeLeaf(fra);
      assertPkiError(() => issueLeaf({ ...base, caCertPem: leaf.certPem, caKeyPem: leaf.keyPem }), 'invalid-ca', /is not a CA/);
      assertPkiError(() => issueLeaf({ ...base, caCertPem: fra.certPem, caKeyPem: fra.keyPem, allowedRegion: 'iad' }), 'invalid-ca', /zone CA of region fra; it cannot issue for region iad/);
      assertPkiError(() => issueLeaf({ ...base, caCertPem: fra.certPem, caKeyPem: fra.keyPem, now: new Date(Date.now() + 30 * DAY_MS) }), 'invalid-ca', /expired at .*; rotate it/);
    });

    it('never outlives its zone CA', () => {
      const zoneNotAfter = readCertificate(fra.certPem).notAfter;
      const issued = leafFor(`spiffe://${TD}/region/fra/edge/e-1`, { lifetimeMs: 30 * DAY_MS });
      assert.equal(issued.notAfter.getTime(), zoneNotAfter.getTime());
    });

    it('refuses a lifetime that is not positive', () => {
      assertPkiError(() => leafFor(`spiffe://${TD}/region/fra/edge/e-1`, { lifetimeMs: 0 }), 'invalid-argument', 'lifetimeMs must be a positive number, got 0');
      assertPkiError(() => leafFor(`spiffe://${TD}/region/fra/edge/e-1`, { lifetimeMs: Number.NaN }), 'invalid-argument', /got NaN/);
    });
  });
});
