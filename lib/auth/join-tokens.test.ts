import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createJoinToken, JoinTokenError, verifyJoinToken } from './join-tokens';

describe('join tokens', () => {
  const key = randomBytes(32);

  it('verifies a token for its region until it expires', () => {
    const now = Date.now();
    const { token, claims } = createJoinToken(key, 'fra', 3600_000, now);
    assert.match(token, /^mzt1\.[\w-]+\.[\w-]+$/);
    assert.equal(verifyJoinToken(key, token, 'fra', now + 1000).region, 'fra');
    assert.equal(claims.expiresAt, Math.floor((now + 3600_000) / 1000));
    assert.throws(() => verifyJoinToken(key, token, 'fra', now + 3601_000), /expired/);
  });

  it('refuses another region, another key, a changed payload and garbage, each saying why', () => {
    const { token } = createJoinToken(key, 'fra', 60_000);
    assert.throws(() => verifyJoinToken(key, token, 'iad'), /for region 'fra', not 'iad'/);
    assert.throws(() => verifyJoinToken(randomBytes(32), token, 'fra'), /signature/);
    const [p, payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), r: 'iad' })).toString('base64url');
    assert.throws(() => verifyJoinToken(key, `${p}.${forged}.${sig}`, 'iad'), /signature/);
    for (const bad of ['', 'abc', 'mzt1.x', 'mzt2.a.b']) assert.throws(() => verifyJoinToken(key, bad, 'fra'), JoinTokenError);
  });
});
