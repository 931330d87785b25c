// The CLI's decision on a pinned root, and how it reads its trust settings.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkPinnedChain, trustFromArgs } from './admin-tls';
import { connectionOptions } from './admin-client';
import { parseCommandArgs } from './args';
import { certificateFingerprint, generateKeyPair } from '../lib/pki';
import { issueGlobalServerCertificate } from '../lib/pki/control-plane-certificates';
import { makeLeaf, makeRoot, makeZone, TD } from '../test-support/pki-fixtures';

// The chain as a TLS socket's getPeerCertificate(true) gives it: each
// certificate links to the next; the root links to itself.
function presented(...pems: string[]): tls.DetailedPeerCertificate {
  const nodes = pems.map((pem) => {
    const x = new X509Certificate(pem);
    return { raw: x.raw, fingerprint256: x.fingerprint256 } as tls.DetailedPeerCertificate;
  });
  nodes.forEach((n, i) => (n.issuerCertificate = nodes[i + 1] ?? n));
  return nodes[0]!;
}

const root = makeRoot();
const pin = certificateFingerprint(root.certPem);
const key = generateKeyPair();
const globalCert = issueGlobalServerCertificate({ caCertPem: root.certPem, caKeyPem: root.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: TD, lifetimeMs: 3_600_000, hosts: ['localhost'] });

describe('checkPinnedChain', () => {
  it("accepts the global controller's certificate signed by the pinned root", () => {
    assert.equal(checkPinnedChain(presented(globalCert.certPem, root.certPem), pin), undefined);
  });

  it('refuses a chain without the pinned root', () => {
    const other = makeRoot();
    assert.match(checkPinnedChain(presented(globalCert.certPem, root.certPem), certificateFingerprint(other.certPem)) ?? '', /does not contain the root CA sha256:/);
  });

  it("refuses a proxy's leaf, although its chain reaches the pinned root through its zone CA", () => {
    const zone = makeZone(root, 'fra');
    const ingress = makeLeaf(zone, { role: 'ingress', name: 'ingress-fra' });
    assert.match(checkPinnedChain(presented(ingress.certPem, zone.certPem, root.certPem), pin) ?? '', /not signed by the root CA .* directly/);
  });

  it('refuses a leaf the pinned root did not sign, sent along with that root', () => {
    const other = makeRoot();
    const forged = issueGlobalServerCertificate({ caCertPem: other.certPem, caKeyPem: other.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: TD, lifetimeMs: 3_600_000 });
    assert.match(checkPinnedChain(presented(forged.certPem, root.certPem), pin) ?? '', /not signed by the root CA/);
  });

  it('refuses an expired certificate', () => {
    const later = new Date(Date.now() + 2 * 3_600_000);
    assert.match(checkPinnedChain(presented(globalCert.certPem, root.certPem), pin, later) ?? '', /not valid now/);
  });
});

describe('trustFromArgs', () => {
  const parse = (argv: string[]) => parseCommandArgs('get', argv, connectionOptions);

  it('reads --ca-file, MERIDIAN_CA as a file or as PEM, and the fingerprint flag or variable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-ca-'));
    const file = path.join(dir, 'ca.pem');
    fs.writeFileSync(file, root.certPem);
    try {
      assert.equal(trustFromArgs(parse(['--ca-file', file]), {}).kind, 'ca-file');
      assert.deepEqual(trustFromArgs(parse([]), { MERIDIAN_CA: file }), { kind: 'ca-file', source: `MERIDIAN_CA (${file})`, pem: root.certPem.trim() });
      assert.equal(trustFromArgs(parse([]), { MERIDIAN_CA: root.certPem }).kind, 'ca-file');
      assert.deepEqual(trustFromArgs(parse(['--ca-fingerprint', pin.toUpperCase().replace('SHA256', 'sha256')]), {}), { kind: 'fingerprint', source: '--ca-fingerprint', fingerprint: pin });
      assert.deepEqual(trustFromArgs(parse([]), { MERIDIAN_CA_FINGERPRINT: pin }), { kind: 'fingerprint', source: 'MERIDIAN_CA_FINGERPRINT', fingerprint: pin });
      assert.deepEqual(trustFromArgs(parse([]), {}), { kind: 'system' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed fingerprint, a missing or empty file, and both ways at once, naming the flag', () => {
    assert.throws(() => trustFromArgs(parse(['--ca-fingerprint', 'abc']), {}), /--ca-fingerprint: expected sha256:<64 hex digits>/);
    assert.throws(() => trustFromArgs(parse([]), { MERIDIAN_CA_FINGERPRINT: 'sha1:00' }), /MERIDIAN_CA_FINGERPRINT: expected/);
    assert.throws(() => trustFromArgs(parse(['--ca-file', '/nonexistent/ca.pem']), {}), /--ca-file \/nonexistent\/ca\.pem: no such file/);
    assert.throws(() => trustFromArgs(parse([]), { MERIDIAN_CA: '/etc/hostname-not-a-pem' }), /MERIDIAN_CA \/etc\/hostname-not-a-pem/);
    assert.throws(() => trustFromArgs(parse(['--ca-file', 'x', '--ca-fingerprint', pin]), {}), /not both/);
  });
});
