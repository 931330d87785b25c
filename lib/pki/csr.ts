// Certificate signing requests: a node asks for its identity with a CSR signed
// by the key it keeps; the key never leaves the node. parseCsr (proxies, zone
// CAs) and readCsrPublicKey (workloads: the key alone) are the only ways the
// CA reads a CSR, and they refuse anything they cannot fully vouch for.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { PkiError } from './errors';
import { ecCsrPublicKey, createEcCsr, isEcP256 } from './ec-p256';
import { forgeSigner } from './forge-signer';
import { parseIdentity } from './identity';
import { checkRsa, loadPrivateKey, MIN_RSA_KEY_BITS, publicKeyPemOf } from './keys';
import { unixPem } from './pem';

export interface CsrRequest {
  keyPem: string; // the node's own private key (PKCS#8 PEM, RSA)
  identity: string; // spiffe://<td>/region/<region>/<role>/<name>
  dnsNames?: string[];
}

export interface ParsedCsr {
  identity: string;
  dnsNames: string[];
  publicKeyPem: string; // SPKI
}

const SAN_DNS = 2;
const SAN_URI = 6;
// Only the SHA-2 RSA signatures; forge also reads md5/sha1 ones, which we refuse.
const SIGNATURE_ALGORITHMS = new Set(['sha256WithRSAEncryption', 'sha384WithRSAEncryption', 'sha512WithRSAEncryption'].map((name) => forge.pki.oids[name]));
const CSR_PEM_TYPES = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
// The largest RSA key a CSR may carry, and the one public exponent (F4, what
// Node, OpenSSL and forge generate by default).
export const MAX_CSR_RSA_KEY_BITS = 4096;
const RSA_PUBLIC_EXPONENT = 65537;
const HOSTNAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

export function createCsr({ keyPem, identity, dnsNames = [] }: CsrRequest): string {
  const parts = parseIdentity(identity);
  for (const dnsName of dnsNames) checkDnsName(dnsName, 'invalid-argument');
  const key = loadPrivateKey(keyPem, 'CSR key');
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPemOf(keyPem));
  // The subject is informational; the identity is the URI SAN.
  csr.setSubject([
    { shortName: 'CN', value: parts.name },
    { shortName: 'OU', value: parts.role },
    { shortName: 'L', value: parts.region },
  ]);
  csr.setAttributes([
    {
      name: 'extensionRequest',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [{ type: SAN_URI, value: identity }, ...dnsNames.map((value) => ({ type: SAN_DNS, value }))],
        },
      ],
    },
  ]);
  csr.sign(forgeSigner(key), forge.md.sha256.create());
  return unixPem(forge.pki.certificationRequestToPem(csr));
}

// A workload's CSR: only its key counts (the zone decides the identity from
// the instance token), so it names the service in its subject and asks for
// no names. The key: RSA (2048 bits or more) or EC P-256.
export function createWorkloadCsr(keyPem: string, service: string): string {
  const key = loadWorkloadKey(keyPem);
  if (isEcP256(key)) return createEcCsr(key, service);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPemOf(keyPem));
  csr.setSubject([{ shortName: 'CN', value: service }]);
  csr.sign(forgeSigner(key), forge.md.sha256.create());
  return unixPem(forge.pki.certificationRequestToPem(csr));
}

function loadWorkloadKey(keyPem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new PkiError('invalid-key', `workload key is not a readable PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (isEcP256(key)) return key;
  if (key.asymmetricKeyType !== 'rsa') {
    const what = key.asymmetricKeyType === 'ec' ? `an EC key on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : `a key of type ${key.asymmetricKeyType ?? 'unknown'}`;
    throw new PkiError('invalid-key', `workload key is ${what}; workload keys are RSA (${MIN_RSA_KEY_BITS} to ${MAX_CSR_RSA_KEY_BITS} bits) or EC P-256`);
  }
  checkRsa(key, 'workload key');
  return key;
}

function invalid(reason: string, cause?: unknown): never {
  throw new PkiError('invalid-csr', `malformed CSR: ${reason}`, cause === undefined ? undefined : { cause });
}

export function parseCsr(pem: string): ParsedCsr {
  const csr = readSignedCsr(pem);
  const { identity, dnsNames } = requestedNames(csr);
  return { identity, dnsNames, publicKeyPem: unixPem(forge.pki.publicKeyToPem(csr.publicKey as forge.pki.rsa.PublicKey)) };
}

// Only the key of a CSR (SPKI PEM), proven by its signature; the names it
// asks for are not read. For a CA that decides the identity itself (a
// workload's certificate), so a CSR from any tool (a CN, no SAN) will do,
// with an RSA key or an EC P-256 key.
export function readCsrPublicKey(pem: string): string {
  const der = csrDer(pem);
  if (!isRsaCsr(der)) return ecCsrPublicKey(der, (reason) => invalid(reason));
  return unixPem(forge.pki.publicKeyToPem(readSignedCsr(pem).publicKey as forge.pki.rsa.PublicKey));
}

// A CSR whose key is acceptable and whose signature verifies with it. The
// key's size and exponent are checked first: forge's pure-JS verification
// of a huge modulus or exponent would hold the event loop for seconds.
function readSignedCsr(pem: string): forge.pki.CertificateSigningRequest {
  const csr = readCsr(pem);
  if (!csr.siginfo.algorithmOid || !SIGNATURE_ALGORITHMS.has(csr.siginfo.algorithmOid)) {
    invalid(`signature algorithm ${forge.pki.oids[csr.siginfo.algorithmOid ?? ''] ?? csr.siginfo.algorithmOid} is not accepted; sign with SHA-256 or stronger`);
  }
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  const bits = publicKey.n.bitLength();
  if (bits < MIN_RSA_KEY_BITS) invalid(`its RSA key has ${bits} bits; at least ${MIN_RSA_KEY_BITS} are required`);
  if (bits > MAX_CSR_RSA_KEY_BITS) invalid(`its RSA key has ${bits} bits; at most ${MAX_CSR_RSA_KEY_BITS} are accepted`);
  const e = publicKey.e;
  if (e.bitLength() > 31 || e.intValue() !== RSA_PUBLIC_EXPONENT) {
    invalid(`its RSA public exponent is ${e.bitLength() > 31 ? `${e.bitLength()} bits long` : e.intValue()}; only ${RSA_PUBLIC_EXPONENT} is accepted`);
  }
  // forge throws on a signature that does not even decrypt to a padded block
  let signed = false;
  try {
    signed = csr.verify();
  } catch {
    signed = false;
  }
  if (!signed) invalid('its signature does not verify with its own public key (altered, or not signed by the key it carries)');
  return csr;
}

// The DER (binary string) of the one CSR PEM block.
function csrDer(pem: string): string {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN')) invalid('not PEM text (expected -----BEGIN CERTIFICATE REQUEST-----)');
  let blocks: ReturnType<typeof forge.pem.decode>;
  try {
    blocks = forge.pem.decode(pem);
  } catch (err) {
    invalid(`not PEM text: ${(err as Error).message}`, err);
  }
  if (blocks.length !== 1) invalid(`expected exactly one PEM block, found ${blocks.length}`);
  const [block] = blocks;
  if (!CSR_PEM_TYPES.has(block.type)) invalid(`PEM block is "${block.type}", expected "CERTIFICATE REQUEST"`);
  if (block.procType?.type === 'ENCRYPTED') invalid('PEM block is encrypted');
  return block.body;
}

// Whether the CSR's key is RSA (forge reads it) rather than anything else.
function isRsaCsr(der: string): boolean {
  try {
    forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(der), true);
    return true;
  } catch (err) {
    return !/OID is not RSA/.test((err as Error).message);
  }
}

function readCsr(pem: string): forge.pki.CertificateSigningRequest {
  const der = csrDer(pem);
  try {
    return forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(der), true);
  } catch (err) {
    const message = (err as Error).message;
    if (/OID is not RSA/.test(message)) invalid(`its key is not RSA; Meridian CAs sign RSA keys of ${MIN_RSA_KEY_BITS} to ${MAX_CSR_RSA_KEY_BITS} bits here (node-forge signs only RSA)`, err);
    invalid(`cannot decode it: ${message}`, err);
  }
}

interface ForgeAltName {
  type: number;
  value: unknown;
}

// Exactly one URI SAN that is a mesh identity, plus optional DNS names; no other
// kinds (IP, e-mail, ...), so nothing slips into a certificate unexamined.
function requestedNames(csr: forge.pki.CertificateSigningRequest): { identity: string; dnsNames: string[] } {
  const requests = csr.attributes.filter((attribute) => attribute.type === forge.pki.oids.extensionRequest);
  if (requests.length > 1) invalid('it has more than one extensionRequest attribute');
  const extensions: Array<{ name?: string; altNames?: ForgeAltName[] }> = requests[0]?.extensions ?? [];
  const sans = extensions.filter((extension) => extension.name === 'subjectAltName');
  if (sans.length !== 1) invalid(`it must request exactly one subjectAltName extension carrying its spiffe:// identity, found ${sans.length}`);
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const altName of sans[0].altNames ?? []) {
    if (altName.type === SAN_URI && typeof altName.value === 'string') uris.push(altName.value);
    else if (altName.type === SAN_DNS && typeof altName.value === 'string') dnsNames.push(altName.value);
    else invalid(`it asks for a subject alternative name of type ${altName.type}; only one spiffe:// URI and DNS names are allowed`);
  }
  if (uris.length !== 1) invalid(`it must ask for exactly one URI (its spiffe:// identity), asks for ${uris.length}`);
  let identity: string;
  try {
    identity = uris[0];
    parseIdentity(identity);
  } catch (err) {
    invalid((err as Error).message, err);
  }
  for (const dnsName of dnsNames) checkDnsName(dnsName, 'invalid-csr');
  return { identity, dnsNames };
}

function checkDnsName(name: string, code: 'invalid-argument' | 'invalid-csr'): void {
  if (typeof name !== 'string' || name.length > 253 || !HOSTNAME.test(name)) {
    const message = `DNS name ${JSON.stringify(name)} must be a lower-case host name (no wildcard, no trailing dot)`;
    throw new PkiError(code, code === 'invalid-csr' ? `malformed CSR: ${message}` : message);
  }
}
