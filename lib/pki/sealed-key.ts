// A private key sealed for storage (the root CA key in etcd): AES-256-GCM under
// the operator's data key, a random 96-bit nonce per seal, and the version,
// algorithm and key id bound in as additional data so none can be swapped.
import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes } from 'node:crypto';
import type { DataKey } from './data-key';
import { PkiError } from './errors';

export interface SealedKey {
  v: 1;
  alg: 'A256GCM';
  kid: string; // the data key's id (./data-key.ts)
  nonce: string; // base64, 12 bytes
  ciphertext: string; // base64
  tag: string; // base64, 16 bytes
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function additionalData(kid: string): Buffer {
  return Buffer.from(`meridian-sealed-key\0v1\0A256GCM\0${kid}`, 'utf8');
}

export function sealPrivateKey(pem: string, kek: DataKey): SealedKey {
  try {
    createPrivateKey(pem);
  } catch (err) {
    throw new PkiError('invalid-key', `refusing to seal: not a readable PEM private key: ${(err as Error).message}`, { cause: err });
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(kek.kid));
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return {
    v: 1,
    alg: 'A256GCM',
    kid: kek.kid,
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

// Accepts the object or its JSON text (as stored).
export function openSealedKey(sealed: SealedKey | string, kek: DataKey): string {
  const { kid, nonce, ciphertext, tag } = readSealedKey(sealed);
  if (kid !== kek.kid) {
    throw new PkiError('sealed-key', `the data key does not open this sealed key (sealed with data key ${kid}, given data key ${kek.kid})`);
  }
  const decipher = createDecipheriv('aes-256-gcm', kek.key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(kid));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new PkiError('sealed-key', 'the data key does not open this sealed key (authentication failed: wrong key or altered data)', { cause: err });
  }
}

function readSealedKey(input: SealedKey | string): { kid: string; nonce: Buffer; ciphertext: Buffer; tag: Buffer } {
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
  if (fields.v !== 1) malformed(`version ${JSON.stringify(fields.v)} is not supported (this build reads v 1)`);
  if (fields.alg !== 'A256GCM') malformed(`algorithm ${JSON.stringify(fields.alg)} is not supported (this build reads A256GCM)`);
  if (typeof fields.kid !== 'string' || fields.kid === '') malformed('kid must be a non-empty string');
  return {
    kid: fields.kid,
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
