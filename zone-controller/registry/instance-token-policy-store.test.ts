import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeInstanceToken } from '../../lib/auth/instance-token';
import { InstanceTokenPolicyStore } from './instance-token-policy-store';

const dir = mkdtempSync(join(tmpdir(), 'meridian-token-policy-'));
// Every test awaits its stores' saves (flush) before it ends.
after(() => rmSync(dir, { recursive: true, force: true }));
const mesh = generateKeyPairSync('ed25519');
const pem = mesh.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('instance token policy store', () => {
  it('refuses every token until it holds a policy', () => {
    const store = new InstanceTokenPolicyStore(join(dir, 'none.json'));
    store.load();
    const { token } = makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 60_000);
    assert.throws(() => store.verify(token), /holds no instance token signing key/);
  });

  it('keeps the policy on disk: after a restart it still checks tokens and refuses revoked ones', async () => {
    const file = join(dir, 'policy.json');
    const good = makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 3600_000);
    const gone = makeInstanceToken(mesh.privateKey, { region: 'fra', service: 'echo' }, 3600_000);
    const first = new InstanceTokenPolicyStore(file);
    first.accept({ publicKeys: [pem], revoked: [{ id: gone.claims.id, expiresAt: gone.claims.expiresAt }] });
    await first.flush();

    const restarted = new InstanceTokenPolicyStore(file);
    restarted.load();
    assert.equal(restarted.verify(good.token).id, good.claims.id);
    assert.throws(() => restarted.verify(gone.token), /has been revoked/);
  });

  it('drops revocations of expired tokens and ignores an invalid policy or a damaged file', async () => {
    const file = join(dir, 'prune.json');
    const store = new InstanceTokenPolicyStore(file);
    const now = Math.floor(Date.now() / 1000);
    store.accept({ publicKeys: [pem], revoked: [{ id: 'live', expiresAt: now + 60 }, { id: 'dead', expiresAt: now - 60 }] });
    assert.deepEqual(store.current.revoked.map((r) => r.id), ['live']);
    assert.throws(() => store.accept({ publicKeys: ['junk'], revoked: [] }), /publicKeys\[0\]/);
    assert.deepEqual(store.current.publicKeys, [pem], 'the policy held is kept');
    // Its save done first, so it neither replaces the damaged file nor races the cleanup.
    await store.flush();

    writeFileSync(file, '{"format":2');
    const damaged = new InstanceTokenPolicyStore(file);
    damaged.load();
    assert.deepEqual(damaged.current, { publicKeys: [], revoked: [] });
  });
});
