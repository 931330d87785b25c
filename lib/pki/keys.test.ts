import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKeyPair, generateKeyPairAsync, loadPrivateKey, publicKeyPemOf } from './keys';
import { assertPkiError } from '../../test-support/pki-fixtures';

describe('key pairs', () => {
  it('are RSA 2048 with a PKCS#8 private key and an SPKI public key', () => {
    const { privateKeyPem, publicKeyPem } = generateKeyPair();
    assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const key = createPrivateKey(privateKeyPem);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(publicKeyPemOf(privateKeyPem), publicKeyPem);
  });

  it('can be made off the event loop', async () => {
    const { privateKeyPem, publicKeyPem } = await generateKeyPairAsync();
    assert.equal(createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }), publicKeyPem);
  });

  it('an EC or short RSA key is refused with the reason', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assertPkiError(() => loadPrivateKey(ec), 'invalid-key', /is ec key; Meridian certificates use RSA keys/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assertPkiError(() => loadPrivateKey(short), 'invalid-key', /RSA 1024 bits; at least 2048 are required/);
    assertPkiError(() => loadPrivateKey('not a key'), 'invalid-key', /not a readable PEM private key/);
  });
});
