// WireGuard keys made on the node (only the public key ever leaves it):
// Curve25519 through Node's crypto, in the base64 form that `wg genkey` and
// `wg pubkey` use, so no `wg` binary is needed to make or check a key.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WireGuardKeyPair {
  privateKey: string;
  publicKey: string;
}

// DER framing of a raw X25519 private key (PKCS#8) and public key (SPKI).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX_LENGTH = 12;

const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

// 32 bytes in base64, as wg prints them.
export function isWireGuardKey(s: string): boolean {
  return KEY_RE.test(s);
}

export function publicKeyOf(privateKey: string): string {
  if (!isWireGuardKey(privateKey)) throw new Error('not a WireGuard private key (32 bytes, base64)');
  const key = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' });
  const spki = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_PREFIX_LENGTH).toString('base64');
}

export function generateKeyPair(): WireGuardKeyPair {
  const raw = crypto.randomBytes(32);
  // Clamp as `wg genkey` does; X25519 clamps anyway, this keeps the stored
  // key byte-identical to what wg itself would have produced.
  raw[0]! &= 248;
  raw[31]! &= 127;
  raw[31]! |= 64;
  const privateKey = raw.toString('base64');
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

// Written to a temporary file created 0600 and renamed, so the key is never
// readable by others nor seen half-written.
export async function writePrivateKeyFile(file: string, privateKey: string): Promise<void> {
  if (!isWireGuardKey(privateKey)) throw new Error('not a WireGuard private key (32 bytes, base64)');
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
  const fh = await fs.promises.open(tmp, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // whatever the umask
    await fh.writeFile(`${privateKey}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

export async function readPrivateKeyFile(file: string): Promise<string> {
  const key = (await fs.promises.readFile(file, 'utf8')).trim();
  if (!isWireGuardKey(key)) throw new Error(`${file}: not a WireGuard private key`);
  return key;
}

// The node's key: the one on disk if there is one, else a new one written
// there. Keeps the public key stable across restarts of the agent.
export async function ensurePrivateKeyFile(file: string): Promise<WireGuardKeyPair> {
  try {
    const privateKey = await readPrivateKeyFile(file);
    return { privateKey, publicKey: publicKeyOf(privateKey) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pair = generateKeyPair();
  // A first start: the key's directory (the zone's state dir/wireguard) may not exist yet.
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writePrivateKeyFile(file, pair.privateKey);
  return pair;
}
