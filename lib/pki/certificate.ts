// Reads what the mesh needs from any X.509 certificate (ours or anyone's, any
// key type): validity, serial, CA flag and the SAN URIs and DNS names. Node's
// X509Certificate parses and verifies; the SAN and the path length are read
// from the DER itself (Node shows the SAN only as a display string, whose
// quoting rules are for humans, and does not show the path length at all).
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { PkiError } from './errors';
import { isIdentity } from './identity';

const SUBJECT_ALT_NAME_OID = '2.5.29.17';
const BASIC_CONSTRAINTS_OID = '2.5.29.19';
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
  pathLen: number | null; // basicConstraints pathLenConstraint; null when absent
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
  let extensions: Map<string, forge.asn1.Asn1>;
  try {
    extensions = extensionsOf(x509.raw);
  } catch (err) {
    throw new PkiError('invalid-certificate', `${what}: cannot read its extensions: ${(err as Error).message}`, { cause: err });
  }
  const { uris, dnsNames } = subjectAltNames(extensions.get(SUBJECT_ALT_NAME_OID));
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
    pathLen: pathLenOf(extensions.get(BASIC_CONSTRAINTS_OID)),
  };
}

// The extension values of a DER certificate by OID (the explicit [3] of TBSCertificate).
// Each value is parsed here, so a malformed extension is reported as such.
function extensionsOf(der: Buffer): Map<string, forge.asn1.Asn1> {
  const { asn1 } = forge;
  const tbs = children(asn1.fromDer(der.toString('binary')))[0];
  const wrapper = children(tbs).find((node) => node.tagClass === asn1.Class.CONTEXT_SPECIFIC && node.type === 3);
  const values = new Map<string, forge.asn1.Asn1>();
  for (const extension of wrapper ? children(children(wrapper)[0]) : []) {
    const parts = children(extension);
    values.set(asn1.derToOid(parts[0].value as string), asn1.fromDer(parts[parts.length - 1].value as string));
  }
  return values;
}

function subjectAltNames(value: forge.asn1.Asn1 | undefined): { uris: string[]; dnsNames: string[] } {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  if (value === undefined) return { uris, dnsNames };
  for (const name of Array.isArray(value.value) ? value.value : []) {
    if (name.tagClass !== forge.asn1.Class.CONTEXT_SPECIFIC || name.constructed) continue;
    if (name.type === SAN_URI) uris.push(name.value as string);
    if (name.type === SAN_DNS) dnsNames.push(name.value as string);
  }
  return { uris, dnsNames };
}

// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
function pathLenOf(value: forge.asn1.Asn1 | undefined): number | null {
  if (value === undefined || !Array.isArray(value.value)) return null;
  const integer = value.value.find((node) => node.type === forge.asn1.Type.INTEGER);
  return integer ? forge.asn1.derToInteger(integer.value as string) : null;
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (!Array.isArray(node.value)) throw new Error('unexpected ASN.1 structure');
  return node.value;
}
