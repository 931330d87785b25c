// Lays out and signs one X.509 certificate: random serial, validity with clock
// skew, key identifiers. What goes into it (profile, policy) is decided by the
// caller, ./certificate-authority.ts.
import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { bitString, ecSubjectPublicKeyInfo, toDer } from './ec-p256';
import { forgeSigner } from './forge-signer';
import { unixPem } from './pem';

// notBefore is set this far in the past so a peer whose clock runs a little
// behind does not see a brand-new certificate as not yet valid.
export const CLOCK_SKEW_MS = 60_000;

export interface CertificateRequest {
  publicKeyPem: string; // SPKI: RSA, or EC P-256 (a workload's); the signing key is RSA
  subject: forge.pki.CertificateField[];
  extensions: object[]; // forge extension objects, without key identifiers
  now: Date;
  notAfter: Date;
  signingKey: KeyObject;
  // Absent for a self-signed certificate.
  issuer?: { subject: forge.pki.CertificateField[]; keyId: string };
}

export interface SignedCertificate {
  certPem: string;
  serial: string; // lower-case hex
  notBefore: Date;
  notAfter: Date;
}

export function signCertificate(request: CertificateRequest): SignedCertificate {
  const rsa = createPublicKey(request.publicKeyPem).asymmetricKeyType === 'rsa';
  const ec = rsa ? undefined : ecSubjectPublicKeyInfo(request.publicKeyPem);
  const cert = forge.pki.createCertificate();
  // forge lays out only RSA keys: an EC key's SPKI replaces the issuer's
  // RSA key (a stand-in) in the TBSCertificate below.
  cert.publicKey = forge.pki.publicKeyFromPem(rsa ? request.publicKeyPem : createPublicKey(request.signingKey).export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = randomSerial();
  // X.509 times have whole seconds; round here so the returned dates are the encoded ones.
  cert.validity.notBefore = wholeSeconds(request.now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = wholeSeconds(request.notAfter.getTime());
  cert.setSubject(request.subject);
  cert.setIssuer(request.issuer?.subject ?? request.subject);
  const ownKeyId = ec?.keyId ?? cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    ...request.extensions,
    { name: 'subjectKeyIdentifier', value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, ownKeyId) },
    // Lets TLS stacks pick the right issuer when two CAs share a name (root rotation).
    { name: 'authorityKeyIdentifier', keyIdentifier: request.issuer?.keyId ?? ownKeyId },
  ]);
  const certPem = ec ? signWithSpki(cert, ec.spki, request.signingKey) : signWithForge(cert, request.signingKey);
  return {
    certPem,
    serial: cert.serialNumber,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
  };
}

function signWithForge(cert: forge.pki.Certificate, signingKey: KeyObject): string {
  cert.sign(forgeSigner(signingKey), forge.md.sha256.create());
  return unixPem(forge.pki.certificateToPem(cert));
}

// TBSCertificate with this SPKI (its seventh field), signed sha256WithRSA.
function signWithSpki(cert: forge.pki.Certificate, spki: forge.asn1.Asn1, signingKey: KeyObject): string {
  const { asn1 } = forge;
  const algorithm = forge.pki.oids.sha256WithRSAEncryption!;
  cert.siginfo.algorithmOid = algorithm;
  cert.signatureOid = algorithm;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  (tbs.value as forge.asn1.Asn1[])[6] = spki;
  const signature = sign('sha256', toDer(tbs), signingKey);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(algorithm).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    bitString(signature),
  ]);
  return unixPem(forge.pem.encode({ type: 'CERTIFICATE', body: toDer(certificate).toString('binary') }));
}

// 16 octets from the CSPRNG. The top bit is cleared so the DER INTEGER is
// positive and the next one set so it needs no leading zero octet (strict
// parsers refuse non-minimal integers): 126 random bits.
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

// The key identifier a certificate's subjectKeyIdentifier carries (forge's
// method: SHA-1 of the public key), used as the authorityKeyIdentifier of the
// certificates it signs.
export function keyIdOf(cert: forge.pki.Certificate): string {
  const extension = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return extension?.subjectKeyIdentifier ? forge.util.hexToBytes(extension.subjectKeyIdentifier) : cert.generateSubjectKeyIdentifier().getBytes();
}
