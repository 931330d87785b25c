import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { makeInstanceToken, verifyInstanceToken } from '../../lib/auth/instance-token';
import { isLoopback, RegistryAuth, RegistryAuthError } from './registry-auth';

const mesh = generateKeyPairSync('ed25519');
const auth = new RegistryAuth({ region: 'fra', verifyToken: (t) => verifyInstanceToken(t, { publicKeys: [mesh.publicKey], isRevoked: () => false }) });
// Only the two fields RegistryAuth reads.
const request = (remoteAddress: string, authorization?: string) =>
  ({ headers: authorization ? { authorization } : {}, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('registry callers', () => {
  it('reads without a token only from loopback; writes never', () => {
    assert.deepEqual(auth.caller(request('127.0.0.1'), false), { kind: 'loopback' });
    assert.deepEqual(auth.caller(request('::1'), false), { kind: 'loopback' });
    assert.deepEqual(auth.caller(request('::ffff:127.0.0.1'), false), { kind: 'loopback' });
    for (const remote of ['10.0.0.5', '::ffff:10.0.0.5', 'fd00::1']) {
      assert.throws(() => auth.caller(request(remote), false), (err: RegistryAuthError) => err.status === 401 && /from another host/.test(err.message), remote);
    }
    assert.throws(() => auth.caller(request('127.0.0.1'), true), (err: RegistryAuthError) => err.status === 401);
  });

  it('takes a token of its region from anywhere, and refuses another region with 403', () => {
    const { token, claims } = makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 60_000);
    assert.deepEqual(auth.caller(request('10.0.0.5', `Bearer ${token}`), true), { kind: 'token', claims });
    const sin = makeInstanceToken(mesh.privateKey, { region: 'sin', service: 'echo' }, 60_000).token;
    assert.throws(() => auth.caller(request('10.0.0.5', `Bearer ${sin}`), true), (err: RegistryAuthError) => err.status === 403 && /region 'sin'/.test(err.message));
    assert.throws(() => auth.caller(request('127.0.0.1', `Token ${token}`), false), (err: RegistryAuthError) => err.status === 401 && /malformed Authorization/.test(err.message));
  });

  it('knows loopback addresses', () => {
    assert.equal(isLoopback('127.8.9.10'), true);
    assert.equal(isLoopback('128.0.0.1'), false);
    assert.equal(isLoopback(undefined), false);
  });
});
