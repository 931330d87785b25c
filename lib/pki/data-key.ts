// The operator's data key (key-encryption key) that seals the CA keys at rest.
//
// The file must hold at least 32 random bytes (raw, base64 or hex text all
// work, e.g. `head -c 32 /dev/urandom | base64 > meridian.key`); its bytes
// are the input of HKDF-SHA256, less trailing white space if the file is text. HKDF, not scrypt:
// the input is machine-made key material, not a passphrase, so stretching buys
// nothing. A passphrase is not supported; the length check refuses short ones,
// but cannot tell a long passphrase from random bytes, so don't.
import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { PkiError } from './errors';

export const MIN_DATA_KEY_BYTES = 32;
const SALT = 'meridian/sealed-key';

export interface DataKey {
  // Names the key without revealing it, so a sealed key says which data key opens it.
  readonly kid: string;
  // AES-256 key; a KeyObject so it never prints or serialises by accident.
  readonly key: KeyObject;
  // An AES-256 key of its own for each purpose (root CA key, certificate
  // keys, signing keys), so a value sealed for one purpose cannot be opened
  // as another even if its record name were forged.
  purposeKey(purpose: string): KeyObject;
}

export interface LoadDataKeyOptions {
  // A key file that group or others can read is refused by default, as ssh
  // does. 'warn' lets it through with a process warning (e.g. a Kubernetes
  // secret mounted with the default mode 0644: better set defaultMode: 0400).
  insecurePermissions?: 'refuse' | 'warn';
  // What the file is called in messages ('data key file', 'state key file').
  label?: string;
}

export function loadDataKey(file: string, { insecurePermissions = 'refuse', label = 'data key file' }: LoadDataKeyOptions = {}): DataKey {
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new PkiError('data-key', `${label} ${file} is not a regular file`);
    const mode = stat.mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      const message = `${label} ${file} is accessible by group or others (mode 0${mode.toString(8)}); run: chmod 600 ${file}`;
      if (insecurePermissions === 'refuse') throw new PkiError('data-key', message);
      process.emitWarning(message, { code: 'MERIDIAN_DATA_KEY_PERMISSIONS' });
    }
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(err as Error).message}`;
    throw new PkiError('data-key', `${label} ${file} ${why}`, { cause: err });
  }
  return dataKeyFromBytes(bytes, `${label} ${file}`);
}

// For a key given some other way (e.g. an environment variable); `source`
// names it in error messages.
export function dataKeyFromBytes(input: Buffer | string, source: string): DataKey {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const material = isText(bytes) ? trimTrailingWhitespace(bytes) : bytes;
  if (material.length === 0) throw new PkiError('data-key', `${source} is empty; it must hold at least ${MIN_DATA_KEY_BYTES} random bytes`);
  if (material.length < MIN_DATA_KEY_BYTES) {
    throw new PkiError(
      'data-key',
      `${source} holds ${material.length} bytes; it must hold at least ${MIN_DATA_KEY_BYTES} random bytes (e.g. head -c 32 /dev/urandom | base64)`,
    );
  }
  const derive = (info: string, length: number) => Buffer.from(hkdfSync('sha256', material, SALT, info, length));
  const purposeKeys = new Map<string, KeyObject>();
  return {
    kid: derive('key id v1', 8).toString('hex'),
    key: createSecretKey(derive('A256GCM key encryption key v1', 32)),
    purposeKey(purpose: string): KeyObject {
      let key = purposeKeys.get(purpose);
      if (!key) {
        key = createSecretKey(derive(`A256GCM purpose key v2\0${purpose}`, 32));
        purposeKeys.set(purpose, key);
      }
      return key;
    },
  };
}

const WHITESPACE = [0x20, 0x09, 0x0a, 0x0d];

// Printable ASCII and white space only: base64 or hex text, not raw bytes.
// Raw random bytes are used whole, even if they happen to end in 0x0a.
function isText(bytes: Buffer): boolean {
  return bytes.every((byte) => (byte >= 0x20 && byte < 0x7f) || WHITESPACE.includes(byte));
}

// So a newline added by an editor or `echo` does not change a text key.
function trimTrailingWhitespace(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && WHITESPACE.includes(bytes[end - 1])) end--;
  return bytes.subarray(0, end);
}
