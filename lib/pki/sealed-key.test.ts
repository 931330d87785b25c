import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { dataKeyFromBytes, type DataKey } from './data-key';
import { assertPkiError } from '../../test-support/pki-fixtures';
import { generateKeyPair } from './keys';
import { openSealedKey, sealPrivateKey, sealSecret, openSecret, type SealContext } from './sealed-key';

const ROOT: SealContext = { purpose: 'root-ca-key', record: 'root/0123456789abcdef' };

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
    const sealed = sealPrivateKey(pem, kek, ROOT);
    assert.equal(openSealedKey(JSON.stringify(sealed), kek, ROOT), pem);
    assert.equal(openSealedKey(sealed, kek, ROOT), pem);
  });

  it('are versioned JSON with no trace of the PEM', () => {
    const sealed = sealPrivateKey(pem, kek, ROOT);
    assert.deepEqual(Object.keys(sealed).sort(), ['alg', 'ciphertext', 'kid', 'nonce', 'purpose', 'record', 'tag', 'v']);
    assert.equal(sealed.v, 2);
    assert.equal(sealed.record, 'root/0123456789abcdef');
    assert.equal(sealed.alg, 'A256GCM');
    assert.equal(sealed.kid, kek.kid);
    assert.equal(Buffer.from(sealed.nonce, 'base64').length, 12);
    assert.equal(Buffer.from(sealed.tag, 'base64').length, 16);
    const json = JSON.stringify(sealed);
    assert.doesNotMatch(json, /BEGIN|PRIVATE KEY|-----/);
    assert.equal(json.includes(pem.split('\n')[1]), false);
    // a fresh nonce every time
    assert.notEqual(sealPrivateKey(pem, kek, ROOT).ciphertext, sealed.ciphertext);
  });

  it('do not open with another data key', () => {
    const sealed = sealPrivateKey(pem, kek, ROOT);
    assertPkiError(() => openSealedKey(sealed, otherKek, ROOT), 'sealed-key', /^the data key does not open this sealed key/);
    // even when the key id is rewritten to match, authentication fails
    assertPkiError(() => openSealedKey({ ...sealed, kid: otherKek.kid }, otherKek, ROOT), 'sealed-key', /^the data key does not open this sealed key \(authentication failed/);
  });

  it('detect tampering', () => {
    const sealed = sealPrivateKey(pem, kek, ROOT);
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[10] ^= 1;
    assertPkiError(() => openSealedKey({ ...sealed, ciphertext: bytes.toString('base64') }, kek, ROOT), 'sealed-key', /authentication failed: wrong key, altered data or another record/);
  });

  it('refuse malformed input with the reason', () => {
    const sealed = sealPrivateKey(pem, kek, ROOT);
    assertPkiError(() => openSealedKey('{', kek, ROOT), 'sealed-key', 'malformed sealed key: not JSON');
    assertPkiError(() => openSealedKey({ ...sealed, v: 3 } as never, kek, ROOT), 'sealed-key', /version 3 is not supported/);
    assertPkiError(() => openSealedKey({ ...sealed, alg: 'A128GCM' } as never, kek, ROOT), 'sealed-key', /algorithm "A128GCM" is not supported/);
    assertPkiError(() => openSealedKey({ ...sealed, nonce: 'AAAA' }, kek, ROOT), 'sealed-key', /nonce must be 12 bytes, is 3/);
    assertPkiError(() => openSealedKey({ ...sealed, tag: '!!' }, kek, ROOT), 'sealed-key', /tag must be a base64 string/);
  });

  it('open only in the record and for the purpose they were sealed for, even with the labels rewritten', () => {
    const sealed = sealPrivateKey(pem, kek, ROOT);
    const certificate: SealContext = { purpose: 'certificate-key', record: 'Certificate/www' };
    // moved as it is: refused by its labels
    assertPkiError(() => openSealedKey(sealed, kek, certificate), 'sealed-key', /belongs to root-ca-key root\/0123456789abcdef, not certificate-key Certificate\/www/);
    // moved with its labels rewritten: the purpose's subkey and the AAD both differ
    assertPkiError(() => openSealedKey({ ...sealed, ...certificate }, kek, certificate), 'sealed-key', /authentication failed/);
    // another record of the same purpose
    const other: SealContext = { purpose: 'root-ca-key', record: 'root/fedcba9876543210' };
    assertPkiError(() => openSealedKey({ ...sealed, ...other }, kek, other), 'sealed-key', /authentication failed/);
    const secret = sealSecret('c2VjcmV0', kek, { purpose: 'join-signing-key', record: 'join-signing-key' });
    assert.equal(openSecret(secret, kek, { purpose: 'join-signing-key', record: 'join-signing-key' }), 'c2VjcmV0');
  });

  it('refuse the old version, which named no record', () => {
    const sealed = sealPrivateKey(pem, kek, ROOT);
    assertPkiError(() => openSealedKey({ ...sealed, v: 1 } as never, kek, ROOT), 'sealed-key', /version 1 does not name its record/);
  });

  it('only seal private keys', () => {
    assertPkiError(() => sealPrivateKey('hello', kek, ROOT), 'invalid-key', /refusing to seal: not a readable PEM private key/);
  });
});
