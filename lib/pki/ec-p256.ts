// EC P-256 keys, which workloads may use for their certificates. node-forge
// reads and writes only RSA keys in X.509, so for these the ASN.1 is built
// and read here with forge's DER codec and Node's crypto signs and
// verifies (ECDSA signatures in their DER form, as X.509 carries them).
// Meridian's own keys (CAs, proxies) stay RSA.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { PkiError } from './errors';
import { unixPem } from './pem';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
// The ECDSA signatures a CSR may carry, by the digest each uses.
const ECDSA_DIGESTS = new Map([
  [ECDSA_WITH_SHA256, 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
]);
const COMMON_NAME = '2.5.4.3';

export function isEcP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

// CertificationRequest for the key, subject CN=<commonName>, no attributes.
export function createEcCsr(key: KeyObject, commonName: string): string {
  const { asn1 } = forge;
  const info = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(0).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(COMMON_NAME).getBytes()),
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(commonName)),
        ]),
      ]),
    ]),
    fromDer(spkiDer(createPublicKey(key))),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, []),
  ]);
  const infoDer = toDer(info);
  const csr = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    info,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_WITH_SHA256).getBytes())]),
    bitString(sign('sha256', infoDer, key)),
  ]);
  return unixPem(forge.pem.encode({ type: 'CERTIFICATE REQUEST', body: toDer(csr).toString('binary') }));
}

// The P-256 key of a CSR (SPKI PEM) once its ECDSA signature verifies; any
// other key is refused. `der`: the CertificationRequest (binary string).
export function ecCsrPublicKey(der: string, invalid: (reason: string) => never): string {
  const { asn1 } = forge;
  let csr: forge.asn1.Asn1;
  try {
    csr = fromDerKeepingBits(der);
  } catch (err) {
    invalid(`cannot decode it: ${(err as Error).message}`);
  }
  const [info, algorithm, signature] = Array.isArray(csr.value) ? csr.value : [];
  const infoParts = info && Array.isArray(info.value) ? info.value : [];
  const spki = infoParts[2];
  const algorithmOid = algorithm && Array.isArray(algorithm.value) && algorithm.value[0] ? asn1.derToOid(algorithm.value[0].value as string) : undefined;
  if (!info || !spki || !signature || signature.type !== asn1.Type.BITSTRING) invalid('cannot decode it: not a CertificationRequest');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: toDer(spki), format: 'der', type: 'spki' });
  } catch (err) {
    invalid(`cannot read its public key: ${(err as Error).message}`);
  }
  if (!isEcP256(key)) {
    const what = key.asymmetricKeyType === 'ec' ? `an EC key on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : `a key of type ${key.asymmetricKeyType ?? 'unknown'}`;
    invalid(`its key is ${what}; accepted are RSA keys of 2048 to 4096 bits and EC P-256 keys`);
  }
  const digest = algorithmOid === undefined ? undefined : ECDSA_DIGESTS.get(algorithmOid);
  if (digest === undefined) invalid(`signature algorithm ${algorithmOid ?? 'unknown'} is not accepted for an EC key; sign with ECDSA and SHA-256 or stronger`);
  // BIT STRING content: one octet of unused bits (0), then the DER signature.
  const bits = Buffer.from(signature.value as string, 'binary');
  let signed = false;
  try {
    signed = bits[0] === 0 && verify(digest, toDer(info), key, bits.subarray(1));
  } catch {
    signed = false;
  }
  if (!signed) invalid('its signature does not verify with its own public key (altered, or not signed by the key it carries)');
  return unixPem(key.export({ type: 'spki', format: 'pem' }).toString());
}

// The SPKI of a P-256 public key as forge ASN.1, and its key identifier
// (SHA-1 of the public key bits, as forge computes it for RSA keys).
export function ecSubjectPublicKeyInfo(publicKeyPem: string): { spki: forge.asn1.Asn1; keyId: string } {
  const der = spkiDer(createPublicKey(publicKeyPem));
  const spki = fromDer(der);
  const point = (spki.value as forge.asn1.Asn1[])[1]!.value as string;
  // The first octet of the BIT STRING counts the unused bits.
  return { spki, keyId: createHash('sha1').update(Buffer.from(point.slice(1), 'binary')).digest().toString('binary') };
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

// Bit strings kept as bytes: forge would otherwise try to read an EC point as ASN.1.
function fromDer(der: Buffer): forge.asn1.Asn1 {
  try {
    return fromDerKeepingBits(der.toString('binary'));
  } catch (err) {
    throw new PkiError('invalid-key', `cannot read a public key: ${(err as Error).message}`);
  }
}

// forge's typings know only the boolean form of the second argument.
const fromDerWithOptions = forge.asn1.fromDer as unknown as (der: string, options: { strict?: boolean; decodeBitStrings?: boolean }) => forge.asn1.Asn1;

function fromDerKeepingBits(der: string): forge.asn1.Asn1 {
  return fromDerWithOptions(der, { strict: true, decodeBitStrings: false });
}

export function toDer(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

export function bitString(bytes: Buffer): forge.asn1.Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.BITSTRING, false, '\0' + bytes.toString('binary'));
}
