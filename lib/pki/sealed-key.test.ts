import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { dataKeyFromBytes, type DataKey } from './data-key';
import { assertPkiError } from './fixtures';
import { generateKeyPair } from './keys';
import { openSealedKey, sealPrivateKey } from './sealed-key';

describe('sealed private keys', () => {
  let pem: string;
  let kek: DataKey;
  let otherKek: DataKey;
  before(() => {
    pem = generateKeyPair().privateKeyPem;
    kek = dataKeyFromBytes(randomBytes(32), 'test key');
    otherKek = dataKeyFromBytes(randomBytes(32), 'other test key');
  });

  it('round-trip through their stored JSON', () => {
    const sealed = sealPrivateKey(pem, kek);
    assert.equal(openSealedKey(JSON.stringify(sealed), kek), pem);
    assert.equal(openSealedKey(sealed, kek), pem);
  });

  it('are versioned JSON with no trace of the PEM', () => {
    const sealed = sealPrivateKey(pem, kek);
    assert.deepEqual(Object.keys(sealed).sort(), ['alg', 'ciphertext', 'kid', 'nonce', 'tag', 'v']);
    assert.equal(sealed.v, 1);
    assert.equal(sealed.alg, 'A256GCM');
    assert.equal(sealed.kid, kek.kid);
    assert.equal(Buffer.from(sealed.nonce, 'base64').length, 12);
    assert.equal(Buffer.from(sealed.tag, 'base64').length, 16);
    const json = JSON.stringify(sealed);
    assert.doesNotMatch(json, /BEGIN|PRIVATE KEY|-----/);
    assert.equal(json.includes(pem.split('\n')[1]), false);
    // a fresh nonce every time
    assert.notEqual(sealPrivateKey(pem, kek).ciphertext, sealed.ciphertext);
  });

  it('do not open with another data key', () => {
    const sealed = sealPrivateKey(pem, kek);
    assertPkiError(() => openSealedKey(sealed, otherKek), 'sealed-key', /^the data key does not open this sealed key/);
    // even when the key id is rewritten to match, authentication fails
    assertPkiError(() => openSealedKey({ ...sealed, kid: otherKek.kid }, otherKek), 'sealed-key', /^the data key does not open this sealed key \(authentication failed/);
  });

  it('detect tampering', () => {
    const sealed = sealPrivateKey(pem, kek);
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[10] ^= 1;
    assertPkiError(() => openSealedKey({ ...sealed, ciphertext: bytes.toString('base64') }, kek), 'sealed-key', /authentication failed: wrong key or altered data/);
  });

  it('refuse malformed input with the reason', () => {
    const sealed = sealPrivateKey(pem, kek);
    assertPkiError(() => openSealedKey('{', kek), 'sealed-key', 'malformed sealed key: not JSON');
    assertPkiError(() => openSealedKey({ ...sealed, v: 2 } as never, kek), 'sealed-key', /version 2 is not supported/);
    assertPkiError(() => openSealedKey({ ...sealed, alg: 'A128GCM' } as never, kek), 'sealed-key', /algorithm "A128GCM" is not supported/);
    assertPkiError(() => openSealedKey({ ...sealed, nonce: 'AAAA' }, kek), 'sealed-key', /nonce must be 12 bytes, is 3/);
    assertPkiError(() => openSealedKey({ ...sealed, tag: '!!' }, kek), 'sealed-key', /tag must be a base64 string/);
  });

  it('only seal private keys', () => {
    assertPkiError(() => sealPrivateKey('hello', kek), 'invalid-key', /refusing to seal: not a readable PEM private key/);
  });
});
