import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createSelfSignedCertificate, dataKeyFromBytes, sealPrivateKey } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
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

  it('withholds a Certificate whose sealed key belongs to another record, or to no certificate of its own, and says which', async () => {
    const dataKey = dataKeyFromBytes(randomBytes(32), 'test key');
    const errors: { fields: Record<string, unknown>; message: string }[] = [];
    const logger = { error: (fields: Record<string, unknown>, message: string) => errors.push({ fields, message }) } as unknown as Logger;
    const checked = new CertificateKeys(dataKey, logger);
    const { keyPem: rootKey } = await createSelfSignedCertificate({ commonName: 'root', dnsNames: ['root'] });
    const stored = checked.seal(doc) as typeof doc & { spec: { sealedPrivateKey: unknown } };

    // The root's sealed key copied into the Certificate's record.
    const moved = { ...stored, spec: { ...stored.spec, sealedPrivateKey: sealPrivateKey(rootKey, dataKey, { purpose: 'root-ca-key', record: 'root/r1' }) } };
    assert.equal(checked.open(moved), undefined);
    assert.equal(errors[0]!.fields.certificate, 'api');
    assert.match(String(errors[0]!.fields.reason), /does not open for Certificate\/api: sealed value belongs to root-ca-key root\/r1/);
    assert.match(errors[0]!.message, /Certificate api is not sent to zones/);

    // Another Certificate's key, sealed for this record (e.g. with the data key in hand): opens, but is not this certificate's.
    const foreign = { ...stored, spec: { ...stored.spec, sealedPrivateKey: sealPrivateKey(rootKey, dataKey, { purpose: 'certificate-key', record: 'Certificate/api' }) } };
    assert.equal(checked.open(foreign), undefined);
    assert.match(String(errors[1]!.fields.reason), /its key does not belong to its certificate/);
    assert.doesNotMatch(JSON.stringify(errors), /PRIVATE KEY/, 'no key in the log');

    assert.deepEqual(checked.open(stored), doc, 'the real one still goes');
  });
});
