import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import forge from 'node-forge';
import { createCsr, parseCsr } from './csr';
import { forgeSigner } from './forge-signer';
import { generateKeyPair, loadPrivateKey, type KeyPairPem } from './keys';
import { assertPkiError } from '../../test-support/pki-fixtures';

const EDGE = 'spiffe://meridian.local/region/fra/edge/e-1';

// An EC P-256 CSR made with `openssl req` (forge cannot make one).
const EC_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIIBDzCBtwIBADANMQswCQYDVQQDDAJlMTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABLWLaz3AP+XgBuzs2jjpNWtl7+IvIVzrNKPDAldnFAve4WY0M06EDn33MIj2
qYkUK0EDDUOkCi9otuu5k1dXZpWgSDBGBgkqhkiG9w0BCQ4xOTA3MDUGA1UdEQQu
MCyGKnNwaWZmZTovL21lcmlkaWFuLmxvY2FsL3JlZ2lvbi9mcmEvZWRnZS9lMTAK
BggqhkjOPQQDAgNHADBEAiAy96Ixm7Ww7bVXtiAEWQelMAKBTk8F12OuQSnQCvLn
rgIgd5qlS6GI5vzuAXvXycPukiQRUsEXW8TEAznsEJmcVxM=
-----END CERTIFICATE REQUEST-----
`;

// A CSR laid out by hand, for requests createCsr would never make.
function handMadeCsr(key: KeyPairPem, altNames: object[] | null, md: forge.md.MessageDigest = forge.md.sha256.create()): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(key.publicKeyPem);
  csr.setSubject([{ shortName: 'CN', value: 'x' }]);
  if (altNames) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames }] }]);
  csr.sign(forgeSigner(loadPrivateKey(key.privateKeyPem)), md);
  return forge.pki.certificationRequestToPem(csr);
}

// Same-length edit inside the signed body: the DER stays valid, the signature does not.
function alter(pem: string, from: string, to: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const at = der.indexOf(from);
  assert.ok(at >= 0 && from.length === to.length);
  der.write(to, at, 'latin1');
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('CSRs', () => {
  let key: KeyPairPem;
  before(() => {
    key = generateKeyPair();
  });

  it('carry the identity and DNS names and verify their own signature', () => {
    const pem = createCsr({ keyPem: key.privateKeyPem, identity: EDGE, dnsNames: ['e-1.fra.mesh.internal'] });
    assert.match(pem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    assert.doesNotMatch(pem, /\r/);
    assert.deepEqual(parseCsr(pem), { identity: EDGE, dnsNames: ['e-1.fra.mesh.internal'], publicKeyPem: key.publicKeyPem });
    assert.deepEqual(parseCsr(createCsr({ keyPem: key.privateKeyPem, identity: EDGE })).dnsNames, []);
  });

  it('createCsr refuses a bad identity, DNS name or key', () => {
    assertPkiError(() => createCsr({ keyPem: key.privateKeyPem, identity: 'spiffe://meridian.local/fra/edge/e-1' }), 'invalid-identity', /not a mesh identity/);
    assertPkiError(() => createCsr({ keyPem: key.privateKeyPem, identity: EDGE, dnsNames: ['*.fra.mesh.internal'] }), 'invalid-argument', /no wildcard/);
    assertPkiError(() => createCsr({ keyPem: 'nope', identity: EDGE }), 'invalid-key', /CSR key is not a readable PEM private key/);
  });

  it('an altered CSR is refused: its signature no longer verifies', () => {
    const pem = createCsr({ keyPem: key.privateKeyPem, identity: EDGE });
    assert.equal(parseCsr(alter(pem, 'region/fra', 'region/fra')).identity, EDGE); // the re-encoding itself is faithful
    assertPkiError(() => parseCsr(alter(pem, 'region/fra', 'region/iad')), 'invalid-csr', /^malformed CSR: its signature does not verify/);
  });

  it('anything but one PEM CSR is refused', () => {
    assertPkiError(() => parseCsr('hello'), 'invalid-csr', /^malformed CSR: not PEM text/);
    assertPkiError(() => parseCsr(''), 'invalid-csr', /not PEM text/);
    assertPkiError(() => parseCsr(key.publicKeyPem), 'invalid-csr', /PEM block is "PUBLIC KEY", expected "CERTIFICATE REQUEST"/);
    const csr = createCsr({ keyPem: key.privateKeyPem, identity: EDGE });
    assertPkiError(() => parseCsr(csr + csr), 'invalid-csr', /exactly one PEM block, found 2/);
    assertPkiError(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), 'invalid-csr', /cannot decode it/);
  });

  it('an EC key is refused with the reason (the CA signs RSA only)', () => {
    assertPkiError(() => parseCsr(EC_CSR), 'invalid-csr', /its key is not RSA/);
  });

  it('a SHA-1 signature is refused', () => {
    assertPkiError(() => parseCsr(handMadeCsr(key, [{ type: 6, value: EDGE }], forge.md.sha1.create())), 'invalid-csr', /signature algorithm sha1WithRSAEncryption is not accepted/);
  });

  it('needs exactly one URI SAN that is a mesh identity, and nothing but DNS names besides', () => {
    assertPkiError(() => parseCsr(handMadeCsr(key, null)), 'invalid-csr', /exactly one subjectAltName extension .* found 0/);
    assertPkiError(() => parseCsr(handMadeCsr(key, [{ type: 2, value: 'a.fra.mesh.internal' }])), 'invalid-csr', /exactly one URI .* asks for 0/);
    assertPkiError(
      () => parseCsr(handMadeCsr(key, [{ type: 6, value: EDGE }, { type: 6, value: 'spiffe://meridian.local/region/fra/edge/e-2' }])),
      'invalid-csr',
      /exactly one URI .* asks for 2/,
    );
    assertPkiError(() => parseCsr(handMadeCsr(key, [{ type: 6, value: EDGE }, { type: 7, ip: '10.0.0.1' }])), 'invalid-csr', /type 7; only one spiffe:\/\/ URI and DNS names/);
    assertPkiError(() => parseCsr(handMadeCsr(key, [{ type: 6, value: 'spiffe://meridian.local/edge/e-1' }])), 'invalid-csr', /not a mesh identity/);
    assertPkiError(() => parseCsr(handMadeCsr(key, [{ type: 6, value: EDGE }, { type: 2, value: 'Bad_Name' }])), 'invalid-csr', /DNS name "Bad_Name"/);
  });
});
