// Workloads' leaves: the identity is the one the CA is given, never the
// CSR's; RSA and EC P-256 keys are signed, other keys and RSA keys out of
// bounds are refused before anything is signed; verifyChain accepts them
// only where the caller asks for workloads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { issueWorkloadLeaf } from './certificate-authority';
import { readCertificate } from './certificate';
import { createCsr, createWorkloadCsr, parseCsr, readCsrPublicKey } from './csr';
import { LEAF_ROLES, WORKLOAD_ROLE } from './issuance-policy';
import { generateKeyPair } from './keys';
import { verifyChain } from './verify';
import { assertPkiError, makeRoot, makeZone, TD } from '../../test-support/pki-fixtures';

const root = makeRoot();
const zone = makeZone(root, 'fra');
const ECHO = `spiffe://${TD}/region/fra/service/echo`;

function pkcs8(type: 'ec' | 'rsa', options: object): string {
  return (generateKeyPairSync(type as 'ec', options as { namedCurve: string }).privateKey as ReturnType<typeof createPrivateKey>).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function issue(csrPem: string, region = 'fra') {
  return issueWorkloadLeaf({ caCertPem: zone.certPem, caKeyPem: zone.keyPem, csrPem, trustDomain: TD, region, service: 'echo', lifetimeMs: 3_600_000 });
}

describe('issueWorkloadLeaf', () => {
  it('names the service it is given, whatever the CSR asks for, and chains to the root', () => {
    const keyPem = generateKeyPair().privateKeyPem;
    const csr = createCsr({ keyPem, identity: `spiffe://${TD}/region/fra/ingress/fra-1`, dnsNames: ['fra-1.fra.mesh.internal'] });
    const leaf = issue(csr);
    assert.equal(leaf.identity, ECHO);
    const info = readCertificate(leaf.certPem);
    assert.deepEqual([info.uris, info.dnsNames, info.isCa], [[ECHO], [], false]);
    assert.ok(info.x509.checkPrivateKey(createPrivateKey(keyPem)));
    const workloads = verifyChain({ leafPem: leaf.certPem, chainPems: [zone.certPem], rootPems: [root.certPem], leafRoles: [...LEAF_ROLES, WORKLOAD_ROLE] });
    assert.equal(workloads.ok && workloads.identity, ECHO);
    const proxies = verifyChain({ leafPem: leaf.certPem, chainPems: [zone.certPem], rootPems: [root.certPem] });
    assert.equal(!proxies.ok && proxies.reason, 'identity-mismatch');
  });

  it('signs an EC P-256 key (digitalSignature only), from its own CSR', () => {
    const keyPem = pkcs8('ec', { namedCurve: 'P-256' });
    const csr = createWorkloadCsr(keyPem, 'echo');
    assert.throws(() => parseCsr(csr), /its key is not RSA/, 'a proxy\'s CSR stays RSA');
    const leaf = issue(csr);
    const x509 = new X509Certificate(leaf.certPem);
    assert.equal(x509.publicKey.asymmetricKeyType, 'ec');
    assert.ok(x509.checkPrivateKey(createPrivateKey(keyPem)));
    assert.ok(x509.verify(new X509Certificate(zone.certPem).publicKey));
    const verified = verifyChain({ leafPem: leaf.certPem, chainPems: [zone.certPem], rootPems: [root.certPem], leafRoles: [WORKLOAD_ROLE] });
    assert.equal(verified.ok && verified.identity, ECHO);
    assert.deepEqual(readCertificate(leaf.certPem).uris, [ECHO]);
  });

  it('refuses other keys, RSA keys out of bounds, an altered EC CSR, and another region than the zone CA\'s', () => {
    const p384 = pkcs8('ec', { namedCurve: 'P-384' });
    assertPkiError(() => createWorkloadCsr(p384, 'echo'), 'invalid-key', 'workload key is an EC key on curve secp384r1; workload keys are RSA (2048 to 4096 bits) or EC P-256');
    const rsa3 = pkcs8('rsa', { modulusLength: 2048, publicExponent: 3 });
    assertPkiError(() => issue(createWorkloadCsr(rsa3, 'echo')), 'invalid-csr', /its RSA public exponent is 3; only 65537 is accepted/);
    const big = pkcs8('rsa', { modulusLength: 4160 });
    assertPkiError(() => readCsrPublicKey(createWorkloadCsr(big, 'echo')), 'invalid-csr', /its RSA key has 4160 bits; at most 4096 are accepted/);

    const ecCsr = createWorkloadCsr(pkcs8('ec', { namedCurve: 'P-256' }), 'echo');
    const lines = ecCsr.split('\n');
    // The subject's CN (in the signed part) changed from "echo".
    const der = Buffer.from(lines.slice(1, -2).join(''), 'base64');
    der[der.indexOf('echo')] = 'x'.charCodeAt(0);
    const altered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    assertPkiError(() => issue(altered), 'invalid-csr', /its signature does not verify/);

    assertPkiError(() => issue(createWorkloadCsr(generateKeyPair().privateKeyPem, 'echo'), 'ams'), 'invalid-ca', /zone CA of region fra; it cannot issue for region ams/);
  });
});
