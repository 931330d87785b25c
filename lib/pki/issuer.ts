// Loads a CA certificate and its key for signing, and refuses CA material that
// would only produce certificates nobody accepts: not a CA, key and certificate
// that do not belong together, a CA outside its validity.
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { readCertificate, type CertificateInfo } from './certificate';
import { PkiError } from './errors';
import { parseIdentity, parseTrustDomainId, type Identity } from './identity';
import { loadPrivateKey } from './keys';
import { keyIdOf } from './sign-certificate';

export interface Issuer {
  info: CertificateInfo;
  key: KeyObject;
  subject: forge.pki.CertificateField[];
  keyId: string; // binary string, for authorityKeyIdentifier
  trustDomain: string | null; // from spiffe://<td> (root) or the zone CA's identity
  identity: Identity | null; // a zone CA's identity; null for the root
}

export function loadIssuer(caCertPem: string, caKeyPem: string, now: Date): Issuer {
  const info = asCaError(() => readCertificate(caCertPem, 'CA certificate'));
  if (!info.isCa) throw new PkiError('invalid-ca', `CA certificate (serial ${info.serial}) is not a CA: its basicConstraints say CA:false`);
  const key = asCaError(() => loadPrivateKey(caKeyPem, 'CA key'));
  if (!info.x509.checkPrivateKey(key)) throw new PkiError('invalid-ca', `CA key does not belong to the CA certificate (serial ${info.serial})`);
  if (now < info.notBefore) {
    throw new PkiError('invalid-ca', `CA certificate (serial ${info.serial}) is not valid until ${info.notBefore.toISOString()}; it cannot sign at ${now.toISOString()}`);
  }
  if (now >= info.notAfter) {
    throw new PkiError('invalid-ca', `CA certificate (serial ${info.serial}) expired at ${info.notAfter.toISOString()}; rotate it`);
  }
  // Readable by forge because every Meridian CA has an RSA key (checked above).
  const forgeCert = forge.pki.certificateFromPem(caCertPem);
  const identity = info.identity ? parseIdentity(info.identity) : null;
  const trustDomain = identity?.trustDomain ?? info.uris.map(parseTrustDomainId).find((td) => td !== null) ?? null;
  return { info, key, subject: forgeCert.subject.attributes, keyId: keyIdOf(forgeCert), trustDomain, identity };
}

function asCaError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof PkiError) throw new PkiError('invalid-ca', err.message, { cause: err });
    throw err;
  }
}
