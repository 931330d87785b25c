// A secret sealed for storage (the root CA key, Certificate keys and the
// signing keys in etcd): AES-256-GCM under a subkey of the operator's data key
// for the value's purpose, a random 96-bit nonce per seal, and the version,
// algorithm, key id, purpose and record bound in as additional data. A value
// copied to another record (a root's key into a Certificate, one Certificate's
// key into another) fails to open there.
import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes } from 'node:crypto';
import type { DataKey } from './data-key';
import { PkiError } from './errors';

// What a sealed value is for, and the record it belongs to: `root/<id>`,
// `Certificate/<name>`, `join-signing-key`, `zone-ca/<region>`, ...
// zone-ca-key and wireguard-key are sealed with a zone node's state key
// (./state-key.ts), the others with the global controller's data key.
export type SealPurpose = 'root-ca-key' | 'certificate-key' | 'join-signing-key' | 'instance-token-signing-key' | 'zone-ca-key' | 'wireguard-key';

export interface SealContext {
  purpose: SealPurpose;
  record: string;
}

export interface SealedKey {
  v: 2;
  alg: 'A256GCM';
  kid: string; // the data key's id (./data-key.ts)
  purpose: SealPurpose;
  record: string;
  nonce: string; // base64, 12 bytes
  ciphertext: string; // base64
  tag: string; // base64, 16 bytes
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function additionalData(kid: string, context: SealContext): Buffer {
  return Buffer.from(`meridian-sealed\0v2\0A256GCM\0${kid}\0${context.purpose}\0${context.record}`, 'utf8');
}

// Seals any secret text (a PEM key, a base64 HMAC key).
export function sealSecret(plaintext: string, kek: DataKey, context: SealContext): SealedKey {
  if (!context.record) throw new PkiError('sealed-key', 'refusing to seal: no record named');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.purposeKey(context.purpose), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(kek.kid, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    v: 2,
    alg: 'A256GCM',
    kid: kek.kid,
    purpose: context.purpose,
    record: context.record,
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

export function sealPrivateKey(pem: string, kek: DataKey, context: SealContext): SealedKey {
  try {
    createPrivateKey(pem);
  } catch (err) {
    throw new PkiError('invalid-key', `refusing to seal: not a readable PEM private key: ${(err as Error).message}`, { cause: err });
  }
  return sealSecret(pem, kek, context);
}

// Accepts the object or its JSON text (as stored). `context` is where the
// caller found the value: it must be the one it was sealed for.
export function openSecret(sealed: SealedKey | string, kek: DataKey, context: SealContext): string {
  const { kid, purpose, record, nonce, ciphertext, tag } = readSealedKey(sealed);
  if (kid !== kek.kid) {
    throw new PkiError('sealed-key', `the data key does not open this sealed key (sealed with data key ${kid}, given data key ${kek.kid})`);
  }
  if (purpose !== context.purpose || record !== context.record) {
    throw new PkiError('sealed-key', `sealed value belongs to ${purpose} ${record}, not ${context.purpose} ${context.record}: refusing to open it here`);
  }
  const decipher = createDecipheriv('aes-256-gcm', kek.purposeKey(context.purpose), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(kid, context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new PkiError('sealed-key', 'the data key does not open this sealed key (authentication failed: wrong key, altered data or another record)', { cause: err });
  }
}

export const openSealedKey = openSecret;

function readSealedKey(input: SealedKey | string): { kid: string; purpose: string; record: string; nonce: Buffer; ciphertext: Buffer; tag: Buffer } {
  let sealed: unknown = input;
  if (typeof input === 'string') {
    try {
      sealed = JSON.parse(input);
    } catch {
      malformed('not JSON');
    }
  }
  if (typeof sealed !== 'object' || sealed === null) malformed('not an object');
  const fields = sealed as Record<string, unknown>;
  if (fields.v === 1) malformed('version 1 does not name its record and is no longer opened; seal the value again (import the key again)');
  if (fields.v !== 2) malformed(`version ${JSON.stringify(fields.v)} is not supported (this build reads v 2)`);
  if (fields.alg !== 'A256GCM') malformed(`algorithm ${JSON.stringify(fields.alg)} is not supported (this build reads A256GCM)`);
  if (typeof fields.kid !== 'string' || fields.kid === '') malformed('kid must be a non-empty string');
  if (typeof fields.purpose !== 'string' || fields.purpose === '') malformed('purpose must be a non-empty string');
  if (typeof fields.record !== 'string' || fields.record === '') malformed('record must be a non-empty string');
  return {
    kid: fields.kid,
    purpose: fields.purpose,
    record: fields.record,
    nonce: base64Field(fields, 'nonce', NONCE_BYTES),
    ciphertext: base64Field(fields, 'ciphertext'),
    tag: base64Field(fields, 'tag', TAG_BYTES),
  };
}

function base64Field(fields: Record<string, unknown>, name: string, length?: number): Buffer {
  const value = fields[name];
  if (typeof value !== 'string' || !BASE64.test(value)) malformed(`${name} must be a base64 string`);
  const bytes = Buffer.from(value, 'base64');
  if (length !== undefined && bytes.length !== length) malformed(`${name} must be ${length} bytes, is ${bytes.length}`);
  return bytes;
}

function malformed(reason: string): never {
  throw new PkiError('sealed-key', `malformed sealed key: ${reason}`);
}
