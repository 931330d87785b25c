import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createSelfSignedCertificate } from '../../pki';
import { accept, assertRefused, resource } from '../validation-assertions';
import { certificateExpiryProblem } from './certificate';

const certificate = (spec: unknown) => resource('Certificate', spec, 'api');

describe('Certificate', () => {
  let api: { certPem: string; keyPem: string };
  let other: { certPem: string; keyPem: string };
  before(async () => {
    api = await createSelfSignedCertificate({ commonName: 'api.example.com', dnsNames: ['api.example.com', '*.apps.example.com'] });
    other = await createSelfSignedCertificate({ commonName: 'other.example.com', dnsNames: ['other.example.com'] });
  });

  it('accepts a chain, its key and hosts the certificate carries (wildcards too)', () => {
    const spec = { hosts: ['api.example.com', 'x.apps.example.com', '*.apps.example.com'], certificate: api.certPem, privateKey: api.keyPem };
    assert.deepEqual(accept(certificate(spec)).spec, spec);
    assert.equal(certificateExpiryProblem(accept(certificate(spec))), undefined);
  });

  it('refuses a key of another certificate, naming spec.privateKey', () => {
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: api.certPem, privateKey: other.keyPem }), 'spec.privateKey', /^does not belong to the certificate/);
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: api.certPem, privateKey: 'not a key' }), 'spec.privateKey', /^must be an unencrypted PEM private key/);
  });

  it('refuses what is not a certificate chain, naming spec.certificate', () => {
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: 'hello', privateKey: api.keyPem }), 'spec.certificate', /^must hold a PEM certificate chain/);
    const broken = api.certPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: broken, privateKey: api.keyPem }), 'spec.certificate', /^is not a readable X\.509 certificate chain/);
  });

  it('refuses hosts the certificate does not carry and malformed host names, naming the host', () => {
    assertRefused(certificate({ hosts: ['api.example.com', 'www.example.com'], certificate: api.certPem, privateKey: api.keyPem }), 'spec.hosts[1]', /^"www\.example\.com" is not a name the certificate carries/);
    assertRefused(certificate({ hosts: ['*.example.com'], certificate: api.certPem, privateKey: api.keyPem }), 'spec.hosts[0]', /is not a name the certificate carries/);
    assertRefused(certificate({ hosts: ['API.example.com'], certificate: api.certPem, privateKey: api.keyPem }), 'spec.hosts[0]', /^must be a host name in lower case/);
    assertRefused(certificate({ hosts: [], certificate: api.certPem, privateKey: api.keyPem }), 'spec.hosts', /needs at least one host name/);
  });

  it('says when a certificate has expired or is not valid yet (checked on apply)', async () => {
    const old = await createSelfSignedCertificate({ commonName: 'api.example.com', dnsNames: ['api.example.com'], validityDays: 1, now: new Date(Date.now() - 3 * 86_400_000) });
    const doc = accept(certificate({ hosts: ['api.example.com'], certificate: old.certPem, privateKey: old.keyPem }));
    assert.match(certificateExpiryProblem(doc) ?? '', /^spec\.certificate: expired at /);
    assert.match(certificateExpiryProblem(doc, new Date(Date.now() - 10 * 86_400_000)) ?? '', /^spec\.certificate: not valid until /);
  });

  it('bounds hosts at 100, the chain at 10 certificates and 64 KiB, the key at 16 KiB', () => {
    const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i}.apps.example.com`);
    accept(certificate({ hosts: hosts(100), certificate: api.certPem, privateKey: api.keyPem }));
    assertRefused(certificate({ hosts: hosts(101), certificate: api.certPem, privateKey: api.keyPem }), 'spec.hosts', 'must list at most 100 hosts');
    assertRefused(certificate({ hosts: [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`], certificate: api.certPem, privateKey: api.keyPem }), 'spec.hosts[0]', 'must be at most 253 characters, got 254');
    accept(certificate({ hosts: ['api.example.com'], certificate: api.certPem.repeat(10), privateKey: api.keyPem }));
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: api.certPem.repeat(11), privateKey: api.keyPem }), 'spec.certificate', 'must hold at most 10 certificates, got 11');
    const pad = (pem: string, length: number) => pem + '\n'.repeat(length - pem.length);
    accept(certificate({ hosts: ['api.example.com'], certificate: pad(api.certPem, 65536), privateKey: pad(api.keyPem, 16384) }));
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: pad(api.certPem, 65537), privateKey: api.keyPem }), 'spec.certificate', 'must be at most 65536 characters');
    assertRefused(certificate({ hosts: ['api.example.com'], certificate: api.certPem, privateKey: pad(api.keyPem, 16385) }), 'spec.privateKey', 'must be at most 16384 characters');
  });
});
