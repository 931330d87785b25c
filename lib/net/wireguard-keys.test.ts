import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ensurePrivateKeyFile, generateKeyPair, isWireGuardKey, publicKeyOf, writePrivateKeyFile } from './wireguard-keys';

const hexToB64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

test('publicKeyOf matches the RFC 7748 X25519 test vectors', () => {
  // RFC 7748 section 6.1: Alice's and Bob's keys.
  assert.equal(
    publicKeyOf(hexToB64('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')),
    hexToB64('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
  );
  assert.equal(
    publicKeyOf(hexToB64('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')),
    hexToB64('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
  );
});

test('generateKeyPair makes clamped keys in wg base64 form', () => {
  for (let i = 0; i < 20; i++) {
    const { privateKey, publicKey } = generateKeyPair();
    assert.ok(isWireGuardKey(privateKey) && isWireGuardKey(publicKey));
    const raw = Buffer.from(privateKey, 'base64');
    assert.equal(raw[0]! & 7, 0);
    assert.equal(raw[31]! & 0xc0, 0x40);
    assert.equal(publicKeyOf(privateKey), publicKey);
  }
});

test('isWireGuardKey refuses what is not 32 bytes of base64', () => {
  assert.equal(isWireGuardKey(''), false);
  assert.equal(isWireGuardKey(Buffer.alloc(31).toString('base64')), false);
  assert.equal(isWireGuardKey(Buffer.alloc(33).toString('base64')), false);
  assert.equal(isWireGuardKey(`${Buffer.alloc(32, 1).toString('base64')}\n`), false);
  assert.throws(() => publicKeyOf('nope'), /not a WireGuard private key/);
});

test('writePrivateKeyFile writes 0600 whatever the umask; ensurePrivateKeyFile keeps the key', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-wgkey-'));
  const old = process.umask(0);
  try {
    const file = path.join(dir, 'wg.key');
    const pair = generateKeyPair();
    await writePrivateKeyFile(file, pair.privateKey);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(file, 'utf8'), `${pair.privateKey}\n`);
    assert.deepEqual(await ensurePrivateKeyFile(file), pair);
    const made = await ensurePrivateKeyFile(path.join(dir, 'new.key'));
    assert.deepEqual(await ensurePrivateKeyFile(path.join(dir, 'new.key')), made);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['new.key', 'wg.key'], 'no temporary files left');
    await assert.rejects(writePrivateKeyFile(file, 'garbage'), /not a WireGuard private key/);
  } finally {
    process.umask(old);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
