import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createSelfSignedCertificate, dataKeyFromBytes } from '../../lib/pki';
import { CertificateKeys, REDACTED, redactCertificate } from './certificate-keys';

describe('Certificate keys', () => {
  const keys = new CertificateKeys(dataKeyFromBytes(randomBytes(32), 'test key'));
  let doc: { apiVersion: string; kind: string; metadata: { name: string }; spec: { hosts: string[]; certificate: string; privateKey: string } };
  before(async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'api.example.com', dnsNames: ['api.example.com'] });
    doc = { apiVersion: 'meridian.dev/v1', kind: 'Certificate', metadata: { name: 'api' }, spec: { hosts: ['api.example.com'], certificate: certPem, privateKey: keyPem } };
  });

  it('seals the key for the store and opens it again for the zones', () => {
    const sealed = keys.seal(doc);
    const text = JSON.stringify(sealed);
    assert.doesNotMatch(text, /PRIVATE KEY/);
    assert.equal((sealed.spec as Record<string, unknown>).privateKey, undefined);
    assert.deepEqual(keys.open(sealed), doc);
  });

  it('keeps the stored seal when the same key is applied again, a new one for a new key', async () => {
    const first = keys.seal(doc);
    const again = keys.seal(doc, first as never);
    assert.deepEqual(again, first, 'unchanged: no new revision');
    const { keyPem } = await createSelfSignedCertificate({ commonName: 'x', dnsNames: ['x'] });
    const changed = keys.seal({ ...doc, spec: { ...doc.spec, privateKey: keyPem } }, first as never);
    assert.notDeepEqual((changed.spec as Record<string, unknown>).sealedPrivateKey, (first.spec as Record<string, unknown>).sealedPrivateKey);
  });

  it('never shows the key, sealed or not, and shows the validity instead', () => {
    for (const stored of [doc, keys.seal(doc)]) {
      const shown = redactCertificate(stored) as unknown as { spec: Record<string, unknown>; status: Record<string, string> };
      assert.equal(shown.spec.privateKey, REDACTED);
      assert.equal(shown.spec.sealedPrivateKey, undefined);
      assert.doesNotMatch(JSON.stringify(shown), /PRIVATE KEY|ciphertext/);
      assert.match(shown.status.notAfter, /^\d{4}-/);
    }
  });

  it('leaves other kinds alone', () => {
    const service = { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo' }, spec: {} };
    assert.equal(keys.seal(service), service);
    assert.equal(keys.open(service), service);
    assert.equal(redactCertificate(service), service);
  });
});
