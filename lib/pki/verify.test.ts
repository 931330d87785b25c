import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { RootCa } from './certificate-authority';
import { HOUR_MS, makeLeaf, makeRoot, makeZone, TD, type Leaf, type Zone } from '../../test-support/pki-fixtures';
import { loadIssuer } from './issuer';
import { generateKeyPair } from './keys';
import { signCertificate } from './sign-certificate';
import { verifyChain, type VerifyResult } from './verify';

// Signs whatever a test needs with a CA's key, bypassing the issuance policy:
// the certificates a rogue or buggy CA could produce.
function rogue(ca: { certPem: string; keyPem: string }, altNames: object[], cA = false): { certPem: string; keyPem: string } {
  const key = generateKeyPair();
  const issuer = loadIssuer(ca.certPem, ca.keyPem, new Date());
  const extensions: object[] = [{ name: 'basicConstraints', critical: true, cA }];
  if (cA) extensions.push({ name: 'keyUsage', critical: true, keyCertSign: true });
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  const { certPem } = signCertificate({
    publicKeyPem: key.publicKeyPem,
    subject: [{ shortName: 'CN', value: `rogue ${Math.random()}` }],
    extensions,
    now: new Date(),
    notAfter: new Date(Date.now() + HOUR_MS),
    signingKey: issuer.key,
    issuer: { subject: issuer.subject, keyId: issuer.keyId },
  });
  return { certPem, keyPem: key.privateKeyPem };
}

function refused(result: VerifyResult, reason: string, message?: RegExp): void {
  assert.equal(result.ok, false, `expected a refusal (${reason})`);
  if (result.ok) return;
  assert.equal(result.reason, reason, result.message);
  if (message) assert.match(result.message, message);
}

describe('verifyChain', () => {
  let root: RootCa;
  let fra: Zone;
  let edge: Leaf;

  before(() => {
    root = makeRoot();
    fra = makeZone(root, 'fra');
    edge = makeLeaf(fra, { role: 'edge', name: 'e-1' });
  });

  it('accepts root -> zone CA -> edge leaf and returns its identity', () => {
    const result = verifyChain({ leafPem: edge.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] });
    assert.deepEqual(result, { ok: true, identity: `spiffe://${TD}/region/fra/edge/e-1`, serial: edge.serial, notAfter: edge.notAfter });
  });

  it('takes DER as TLS hands it over (getPeerCertificate().raw)', () => {
    const result = verifyChain({ leafPem: new X509Certificate(edge.certPem).raw, chainPems: [new X509Certificate(fra.certPem).raw], rootPems: [root.certPem] });
    assert.equal(result.ok, true);
  });

  it('trusts two roots at once during rotation: leaves of either verify', () => {
    const newRoot = makeRoot();
    const newFra = makeZone(newRoot, 'fra');
    const newEdge = makeLeaf(newFra, { name: 'e-2' });
    const both = [root.certPem, newRoot.certPem];
    const chain = [newFra.certPem, fra.certPem]; // any order
    assert.equal(verifyChain({ leafPem: edge.certPem, chainPems: chain, rootPems: both }).ok, true);
    assert.equal(verifyChain({ leafPem: newEdge.certPem, chainPems: chain, rootPems: both }).ok, true);
    // once the old root is dropped, its leaves are no longer trusted
    refused(verifyChain({ leafPem: edge.certPem, chainPems: chain, rootPems: [newRoot.certPem] }), 'untrusted');
  });

  it('refuses a leaf from another CA', () => {
    const otherRoot = makeRoot();
    const otherFra = makeZone(otherRoot, 'fra');
    const impostor = makeLeaf(otherFra, { name: 'e-1' });
    refused(verifyChain({ leafPem: impostor.certPem, chainPems: [otherFra.certPem], rootPems: [root.certPem] }), 'untrusted', /not issued by any of the 1 trusted root\(s\) or the chain given \(via chain certificate 0/);
  });

  it('refuses a leaf whose zone CA is missing from the chain', () => {
    refused(verifyChain({ leafPem: edge.certPem, rootPems: [root.certPem] }), 'untrusted', /leaf certificate \(spiffe:\/\/meridian.local\/region\/fra\/edge\/e-1, serial/);
  });

  it('refuses outside the validity period', () => {
    const chain = { leafPem: edge.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] };
    refused(verifyChain({ ...chain, at: new Date(edge.notAfter.getTime() + 1000) }), 'expired', /^leaf certificate .* expired at /);
    refused(verifyChain({ ...chain, at: new Date(edge.notBefore.getTime() - 1000) }), 'not-yet-valid', /^leaf certificate .* is not valid until /);
  });

  it('refuses a CA presented as a leaf', () => {
    refused(verifyChain({ leafPem: fra.certPem, rootPems: [root.certPem] }), 'leaf-is-ca');
  });

  it('refuses a leaf without exactly one mesh identity', () => {
    const bare = rogue(fra, []);
    refused(verifyChain({ leafPem: bare.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] }), 'no-identity', /it has no URI SAN/);
    const twice = rogue(fra, [
      { type: 6, value: `spiffe://${TD}/region/fra/edge/a` },
      { type: 6, value: `spiffe://${TD}/region/fra/edge/b` },
    ]);
    refused(verifyChain({ leafPem: twice.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] }), 'no-identity', /URI SANs .*\/edge\/a, .*\/edge\/b/);
  });

  it('refuses an identity its zone CA may not vouch for, even if the signature is good', () => {
    const otherRegion = rogue(fra, [{ type: 6, value: `spiffe://${TD}/region/iad/edge/x` }]);
    refused(verifyChain({ leafPem: otherRegion.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] }), 'identity-mismatch', /roles edge and ingress in region fra/);
    const global = rogue(fra, [{ type: 6, value: `spiffe://${TD}/region/fra/global/g` }]);
    refused(verifyChain({ leafPem: global.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] }), 'identity-mismatch');
    const otherDomain = rogue(fra, [{ type: 6, value: 'spiffe://other.local/region/fra/edge/x' }]);
    refused(verifyChain({ leafPem: otherDomain.certPem, chainPems: [fra.certPem], rootPems: [root.certPem] }), 'identity-mismatch', /outside trust domain meridian.local/);
  });

  it('refuses a CA below a zone CA (pathLen 0)', () => {
    const subCa = rogue(fra, [{ type: 6, value: `spiffe://${TD}/region/fra/zone/sub` }], true);
    const leaf = rogue(subCa, [{ type: 6, value: `spiffe://${TD}/region/fra/edge/x` }]);
    refused(verifyChain({ leafPem: leaf.certPem, chainPems: [subCa.certPem, fra.certPem], rootPems: [root.certPem] }), 'path-too-long', /allows 0 CA\(s\) below it, the path has 1/);
  });

  it('reports a certificate it cannot read', () => {
    refused(verifyChain({ leafPem: 'garbage', rootPems: [root.certPem] }), 'malformed', /^leaf certificate is not a readable X.509 certificate/);
    refused(verifyChain({ leafPem: edge.certPem, rootPems: ['garbage'] }), 'malformed', /^root certificate 0/);
  });
});
