import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { InstanceTokenError, makeInstanceToken, peekInstanceTokenId, verifyInstanceToken } from './instance-token';
import { readInstanceTokenPolicy, trustOf } from './instance-token-policy';

const mesh = generateKeyPairSync('ed25519');
const trust = (revoked: string[] = []) => ({ publicKeys: [mesh.publicKey], isRevoked: (id: string) => revoked.includes(id) });
const now = Date.parse('2026-12-07T12:00:00Z');

describe('instance tokens', () => {
  it('carry region, service, issue and expiry, and an id, signed with Ed25519', () => {
    const { token, claims } = makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 3600_000, now);
    assert.match(token, /^mit1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(payload, { r: 'fra', s: 'echo', iat: now / 1000, exp: now / 1000 + 3600, jti: claims.id });
    assert.deepEqual(verifyInstanceToken(token, trust(), now + 1000), claims);
    assert.equal(peekInstanceTokenId(token), claims.id);
  });

  it('are refused when malformed, forged, altered, expired or revoked, with the reason', () => {
    const { token, claims } = makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 3600_000, now);
    const refused = (t: string, pattern: RegExp, at = now, revoked: string[] = []) =>
      assert.throws(() => verifyInstanceToken(t, trust(revoked), at), (err: Error) => err instanceof InstanceTokenError && pattern.test(err.message));
    refused('', /not an instance token/);
    refused('mzt1.a.b', /not an instance token/);
    refused('x'.repeat(3000), /longer than 2048/);
    const other = makeInstanceToken(generateKeyPairSync('ed25519').privateKey, { region: 'fra', service: 'echo' }, 3600_000, now);
    refused(other.token, /signature is not valid/);
    // The payload changed to another service, the signature kept.
    const [, , signature] = token.split('.');
    const altered = Buffer.from(JSON.stringify({ r: 'fra', s: '*', iat: now / 1000, exp: now / 1000 + 3600, jti: claims.id })).toString('base64url');
    refused(`mit1.${altered}.${signature}`, /signature is not valid/);
    refused(token, /expired at 2026-12-07T13:00:00.000Z/, now + 3600_000);
    refused(token, new RegExp(`${claims.id} has been revoked`), now, [claims.id]);
    assert.throws(() => verifyInstanceToken(token, { publicKeys: [], isRevoked: () => false }, now), /holds no instance token signing key/);
  });
});

describe('instance token policy', () => {
  const pem = mesh.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('reads keys and revocations, drops revocations of expired tokens, and checks tokens with them', () => {
    const { token, claims } = makeInstanceToken(mesh.privateKey, { region: 'fra', service: '*' }, 3600_000, now);
    const policy = readInstanceTokenPolicy({ publicKeys: [pem], revoked: [{ id: claims.id, expiresAt: String(now / 1000 + 3600) }, { id: 'old', expiresAt: now / 1000 - 1 }] }, now);
    assert.deepEqual(policy.revoked, [{ id: claims.id, expiresAt: now / 1000 + 3600 }]);
    assert.throws(() => verifyInstanceToken(token, trustOf(policy), now), /has been revoked/);
  });

  it('refuses what is not a policy, naming the field', () => {
    assert.throws(() => readInstanceTokenPolicy({ publicKeys: 'x', revoked: [] }), /^Error: publicKeys: /);
    assert.throws(() => readInstanceTokenPolicy({ publicKeys: ['not pem'], revoked: [] }), /^Error: publicKeys\[0\]: /);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(() => readInstanceTokenPolicy({ publicKeys: [rsa], revoked: [] }), /publicKeys\[0\]: instance token signing keys are Ed25519/);
    assert.throws(() => readInstanceTokenPolicy({ publicKeys: [pem], revoked: [{ id: 'a' }] }), /^Error: revoked\[0\]: /);
    assert.throws(() => readInstanceTokenPolicy({ publicKeys: [pem], revoked: new Array(100_001).fill({ id: 'a', expiresAt: 1 }) }), /revoked: must be a list of at most 100000/);
  });
});
