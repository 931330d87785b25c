// Reads what the mesh needs from any X.509 certificate (ours or anyone's, any
// key type): validity, serial, CA flag and the SAN URIs and DNS names. Node's
// X509Certificate parses and verifies; the SAN is read from the DER itself
// rather than from Node's display string, whose quoting rules are for humans.
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { PkiError } from './errors';
import { isIdentity } from './identity';

const SUBJECT_ALT_NAME_OID = '2.5.29.17';
const SAN_DNS = 2;
const SAN_URI = 6;

export interface CertificateInfo {
  x509: X509Certificate;
  // The SPIFFE URI SAN when the certificate carries exactly one valid mesh
  // identity, else null (roots carry spiffe://<td> only; foreign certs none).
  identity: string | null;
  uris: string[];
  dnsNames: string[];
  serial: string; // lower-case hex
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
}

// PEM text or DER bytes (TLS gives DER: socket.getPeerCertificate().raw).
export type CertificateInput = string | Buffer;

export function readCertificate(input: CertificateInput, what = 'certificate'): CertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(input);
  } catch (err) {
    throw new PkiError('invalid-certificate', `${what} is not a readable X.509 certificate: ${(err as Error).message}`, { cause: err });
  }
  const { uris, dnsNames } = subjectAltNames(x509.raw, what);
  const identities = uris.filter(isIdentity);
  return {
    x509,
    identity: identities.length === 1 && uris.length === 1 ? identities[0] : null,
    uris,
    dnsNames,
    serial: x509.serialNumber.toLowerCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    isCa: x509.ca,
  };
}

function subjectAltNames(der: Buffer, what: string): { uris: string[]; dnsNames: string[] } {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  try {
    const { asn1 } = forge;
    const certificate = asn1.fromDer(der.toString('binary'));
    const tbs = children(certificate)[0];
    // extensions are the explicit [3] of TBSCertificate
    const wrapper = children(tbs).find((node) => node.tagClass === asn1.Class.CONTEXT_SPECIFIC && node.type === 3);
    const extensions = wrapper ? children(children(wrapper)[0]) : [];
    for (const extension of extensions) {
      const parts = children(extension);
      if (asn1.derToOid(parts[0].value as string) !== SUBJECT_ALT_NAME_OID) continue;
      const names = asn1.fromDer(parts[parts.length - 1].value as string);
      for (const name of children(names)) {
        if (name.tagClass !== asn1.Class.CONTEXT_SPECIFIC || name.constructed) continue;
        if (name.type === SAN_URI) uris.push(name.value as string);
        if (name.type === SAN_DNS) dnsNames.push(name.value as string);
      }
    }
  } catch (err) {
    throw new PkiError('invalid-certificate', `${what}: cannot read its subject alternative names: ${(err as Error).message}`, { cause: err });
  }
  return { uris, dnsNames };
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (!Array.isArray(node.value)) throw new Error('unexpected ASN.1 structure');
  return node.value;
}
