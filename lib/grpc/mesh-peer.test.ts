// Which verified peer certificates a control stream takes: role, region, and
// an issuer that may vouch for it (certificates from test-support/pki-fixtures).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { generateKeyPair, issueGlobalServerCertificate, issueZoneLeaf } from '../pki';
import { loadIssuer } from '../pki/issuer';
import { signCertificate } from '../pki/sign-certificate';
import { makeLeaf, makeRoot, makeZone, TD } from '../../test-support/pki-fixtures';
import { checkMeshPeer } from './mesh-peer';

// What Node's TLS stack hands over: the DER and the issuer's name fields.
function peer(certPem: string): Pick<PeerCertificate, 'raw' | 'issuer'> {
  const x = new X509Certificate(certPem);
  return { raw: x.raw, issuer: Object.fromEntries(x.issuer.split('\n').map((l) => l.split('=') as [string, string])) as unknown as PeerCertificate['issuer'] };
}

describe('mesh peer check', () => {
  const root = makeRoot();
  const fra = makeZone(root, 'fra');
  const iad = makeZone(root, 'iad');
  const key = generateKeyPair();
  const zoneLeaf = (zone: typeof fra) => issueZoneLeaf({ caCertPem: zone.certPem, caKeyPem: zone.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: TD, lifetimeMs: 3600_000 }).certPem;

  it('takes a zone leaf of the expected region, and refuses it for another region', () => {
    const ok = checkMeshPeer(peer(zoneLeaf(fra)), { trustDomain: TD, roles: ['zone'], region: 'fra' });
    assert.ok(ok.ok && ok.uri === 'spiffe://meridian.local/region/fra/zone/fra');
    const other = checkMeshPeer(peer(zoneLeaf(fra)), { trustDomain: TD, roles: ['zone'], region: 'iad' });
    assert.ok(!other.ok && /region fra, not iad/.test(other.reason));
  });

  it('refuses a role the stream does not take, and another trust domain', () => {
    const edge = makeLeaf(fra, { role: 'edge', name: 'edge-1' });
    const r = checkMeshPeer(peer(edge.certPem), { trustDomain: TD, roles: ['zone'], region: 'fra' });
    assert.ok(!r.ok && /role edge/.test(r.reason));
    const td = checkMeshPeer(peer(zoneLeaf(fra)), { trustDomain: 'other.test', roles: ['zone'] });
    assert.ok(!td.ok && /outside trust domain/.test(td.reason));
  });

  it('refuses a leaf whose issuer is the zone CA of another region', () => {
    // The iad zone CA signs a certificate claiming fra: it verifies to the root, but is not iad's to give.
    const issuer = loadIssuer(iad.certPem, iad.keyPem, new Date());
    const forged = signCertificate({
      publicKeyPem: key.publicKeyPem,
      subject: [{ shortName: 'CN', value: 'edge-1' }],
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 6, value: 'spiffe://meridian.local/region/fra/edge/edge-1' }] }],
      now: new Date(),
      notAfter: new Date(Date.now() + 3600_000),
      signingKey: issuer.key,
      issuer: { subject: issuer.subject, keyId: issuer.keyId },
    });
    const r = checkMeshPeer(peer(forged.certPem), { trustDomain: TD, roles: ['edge'], region: 'fra' });
    assert.ok(!r.ok && /not signed by the zone CA of region fra/.test(r.reason), JSON.stringify(r));
    assert.ok(checkMeshPeer(peer(makeLeaf(fra, { role: 'edge', name: 'edge-1' }).certPem), { trustDomain: TD, roles: ['edge'], region: 'fra' }).ok);
  });

  it('takes the global controller signed by a root, not one signed by a zone CA', () => {
    const byRoot = issueGlobalServerCertificate({ caCertPem: root.certPem, caKeyPem: root.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: TD, lifetimeMs: 3600_000, hosts: ['127.0.0.1', 'gc.example'] });
    assert.ok(checkMeshPeer(peer(byRoot.certPem), { trustDomain: TD, roles: ['global'] }).ok);
    assert.throws(() => issueGlobalServerCertificate({ caCertPem: fra.certPem, caKeyPem: fra.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: TD, lifetimeMs: 3600_000 }), /signed by a root CA/);
    assert.equal(checkMeshPeer(undefined, { trustDomain: TD, roles: ['global'] }).ok, false, 'no certificate');
  });
});
