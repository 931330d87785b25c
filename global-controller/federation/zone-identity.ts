// Who a zone is, for the one-session-per-region rule and for revocation: the
// key of its zone CA, as "sha256:<hex>" of the key's SPKI. A zone joining on
// a token is the key of the CSR it sends; a zone coming back over mTLS is the
// key of the zone CA that signed its leaf. The TLS stack hands over the leaf
// alone, so the zone names its zone CA certificate in Hello, and it counts
// only when the leaf verifies under it and it under a mesh root. A zone CA
// renewed for the same key keeps the identity.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { parseCsr, parseIdentity, readCertificate } from '../../lib/pki';

export function keyIdentity(publicKeyPem: string | KeyObject): string {
  const key = typeof publicKeyPem === 'string' ? createPublicKey(publicKeyPem) : publicKeyPem;
  return `sha256:${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

// Throws the CSR's own PkiError ('invalid-csr') for one that cannot be read.
export function csrIdentity(csrPem: string): string {
  return keyIdentity(parseCsr(csrPem).publicKeyPem);
}

export type LeafIdentity = { ok: true; identity: string } | { ok: false; reason: string };

export function leafIdentity(leafDer: Buffer, zoneCaPem: string, rootsPem: string[], region: string): LeafIdentity {
  if (!zoneCaPem) return { ok: false, reason: 'the Hello names no zone CA certificate (zone_ca_certificate); a zone controller of this version sends it: upgrade the zone controller' };
  let zoneCa;
  try {
    zoneCa = readCertificate(zoneCaPem, 'zone CA certificate');
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const named = zoneCa.identity ? parseIdentity(zoneCa.identity) : undefined;
  if (!zoneCa.isCa || named?.role !== 'zone' || named.region !== region) {
    return { ok: false, reason: `the zone CA certificate of the Hello is not the zone CA of region ${region} (${zoneCa.identity ?? 'no identity'})` };
  }
  // The TLS stack verified the leaf's own chain; this ties the leaf to the
  // certificate named here (signature and names), and it to a mesh root.
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafDer);
  } catch (err) {
    return { ok: false, reason: `the client certificate cannot be read: ${(err as Error).message}` };
  }
  const ca = zoneCa.x509;
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return { ok: false, reason: 'the client certificate was not signed by the zone CA certificate of the Hello' };
  const now = Date.now();
  if (zoneCa.notAfter.getTime() <= now || zoneCa.notBefore.getTime() > now) return { ok: false, reason: `the zone CA certificate of the Hello is not valid now (${zoneCa.notBefore.toISOString()} to ${zoneCa.notAfter.toISOString()})` };
  const rooted = rootsPem.some((pem) => {
    try {
      const root = new X509Certificate(pem);
      return ca.checkIssued(root) && ca.verify(root.publicKey);
    } catch {
      return false;
    }
  });
  if (!rooted) return { ok: false, reason: 'the zone CA certificate of the Hello was not issued by a mesh root' };
  return { ok: true, identity: keyIdentity(zoneCa.x509.publicKey) };
}
