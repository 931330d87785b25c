import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCsr, formatIdentity, generateKeyPair, issueIntermediate, issueZoneLeaf, publicKeyPemOf } from '../../lib/pki';
import { makeRoot, TD } from '../../test-support/pki-fixtures';
import { csrIdentity, keyIdentity, leafIdentity } from './zone-identity';

const root = makeRoot();
const otherRoot = makeRoot();

function zoneCa(region: string, keyPem: string, issuer = root) {
  const csr = createCsr({ keyPem, identity: formatIdentity({ trustDomain: TD, region, role: 'zone', name: region }) });
  return { csr, certPem: issueIntermediate({ caCertPem: issuer.certPem, caKeyPem: issuer.keyPem, csrPem: csr, region, trustDomain: TD, validityHours: 24 }).certPem };
}

function leafOf(ca: { certPem: string }, caKeyPem: string): Buffer {
  const leafKey = generateKeyPair();
  const leaf = issueZoneLeaf({ caCertPem: ca.certPem, caKeyPem, publicKeyPem: leafKey.publicKeyPem, trustDomain: TD, lifetimeMs: 3600_000 });
  return new X509Certificate(leaf.certPem).raw;
}

describe('zone identity: the zone CA key', () => {
  const key = generateKeyPair().privateKeyPem;
  const ca = zoneCa('fra', key);
  const leaf = leafOf(ca, key);

  it('is the same for the CSR of a token join and for a leaf of the zone CA it bought', () => {
    const fromLeaf = leafIdentity(leaf, ca.certPem, [root.certPem], 'fra');
    assert.deepEqual(fromLeaf, { ok: true, identity: csrIdentity(ca.csr) });
    assert.equal(csrIdentity(ca.csr), keyIdentity(publicKeyPemOf(key)));
    assert.match(csrIdentity(ca.csr), /^sha256:[0-9a-f]{64}$/);
  });

  it('stays the same when the zone CA is renewed for the same key', () => {
    const renewed = zoneCa('fra', key);
    assert.deepEqual(leafIdentity(leaf, renewed.certPem, [root.certPem], 'fra'), { ok: true, identity: csrIdentity(ca.csr) });
  });

  it('refuses a Hello that names another zone CA than the one that signed the leaf', () => {
    const other = zoneCa('fra', generateKeyPair().privateKeyPem);
    const r = leafIdentity(leaf, other.certPem, [root.certPem], 'fra');
    assert.deepEqual(r, { ok: false, reason: 'the client certificate was not signed by the zone CA certificate of the Hello' });
  });

  it('refuses a zone CA outside the mesh roots, of another region, or none', () => {
    const foreignKey = generateKeyPair().privateKeyPem;
    const foreign = zoneCa('fra', foreignKey, otherRoot);
    assert.match((leafIdentity(leafOf(foreign, foreignKey), foreign.certPem, [root.certPem], 'fra') as { reason: string }).reason, /not issued by a mesh root/);
    assert.match((leafIdentity(leaf, ca.certPem, [root.certPem], 'iad') as { reason: string }).reason, /is not the zone CA of region iad/);
    assert.match((leafIdentity(leaf, '', [root.certPem], 'fra') as { reason: string }).reason, /names no zone CA certificate \(zone_ca_certificate\)/);
  });
});
