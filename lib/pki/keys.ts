// Key pairs for mesh identities and CAs.
//
// Why RSA and not EC P-256: node-forge, which builds our certificates and CSRs,
// handles only RSA keys in X.509 (lib/x509.js: "Cannot read public key. OID is
// not RSA.", and cert.sign() always writes <md>WithRSAEncryption). Its
// pure-JS RSA is slow (2048-bit key generation ~1.8 s median, signing ~25 ms),
// so Node's native crypto generates the keys (~0.15 s) and signs
// (./forge-signer.ts, ~0.3 ms); forge only lays out the ASN.1.
// Private keys are PKCS#8 PEM, public keys SPKI PEM.
import { createPrivateKey, createPublicKey, generateKeyPair as generateNative, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { PkiError } from './errors';

// Leaves and intermediates live hours to days: 2048 bits.
export const RSA_KEY_BITS = 2048;
// The root lives for years and is rotated rarely: 3072 bits (NIST SP 800-57
// past 2030). Generated once per root, ~0.5-0.8 s (async: generateKeyPairAsync).
export const ROOT_RSA_KEY_BITS = 3072;
// What this library accepts from others (CSRs, CA keys).
export const MIN_RSA_KEY_BITS = 2048;

export interface KeyPairPem {
  privateKeyPem: string; // PKCS#8
  publicKeyPem: string; // SPKI
}

// Blocks the event loop for ~0.1-0.4 s (2048 bits); servers use the async form.
export function generateKeyPair(bits: number = RSA_KEY_BITS): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

// Runs on libuv's thread pool, off the event loop.
export function generateKeyPairAsync(bits: number = RSA_KEY_BITS): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    const options = {
      modulusLength: bits,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    } as const;
    generateNative('rsa', options, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ privateKeyPem: privateKey, publicKeyPem: publicKey });
    });
  });
}

// Reads a PEM private key and insists it is an RSA key we can sign with.
export function loadPrivateKey(pem: string, what = 'private key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new PkiError('invalid-key', `${what} is not a readable PEM private key: ${(err as Error).message}`, { cause: err });
  }
  checkRsa(key, what);
  return key;
}

export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(loadPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

export function checkRsa(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PkiError('invalid-key', `${what} is ${key.asymmetricKeyType ?? 'not an asymmetric'} key; Meridian certificates use RSA keys (node-forge signs only RSA)`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_KEY_BITS) {
    throw new PkiError('invalid-key', `${what} is RSA ${bits} bits; at least ${MIN_RSA_KEY_BITS} are required`);
  }
}
