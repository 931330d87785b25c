// The zone CA across restarts: a new state directory asks for a certificate
// in Hello; a saved valid one is used again without asking (and renews on
// time); a saved one that is expired or for another key is not used. The
// key is sealed with the state key, or kept in memory only without one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dataKeyFromBytes, generateKeyPair, issueIntermediate, parseCsr, sealSecret, type DataKey } from '../../lib/pki';
import { makeRoot, TD } from '../../test-support/pki-fixtures';
import { silentLogger } from '../../lib/observability/logger';
import { ZoneCa } from './zone-ca';

const root = makeRoot();

function sign(csrPem: string, options: { validityHours?: number; now?: Date } = {}): string {
  // A root valid at `now` (one made in the past for a certificate that has expired).
  const issuer = options.now ? makeRoot(new Date(options.now.getTime() - 3600_000)) : root;
  return issueIntermediate({ caCertPem: issuer.certPem, caKeyPem: issuer.keyPem, csrPem, region: 'fra', trustDomain: TD, validityHours: options.validityHours ?? 72, now: options.now }).certPem;
}

const stateKey = dataKeyFromBytes(randomBytes(32), 'test state key');

// null: no state key.
async function loaded(dir: string, key: DataKey | null = stateKey): Promise<ZoneCa> {
  const ca = new ZoneCa(dir, 'fra', TD, silentLogger(), key ?? undefined);
  await ca.prepare();
  return ca;
}

describe('ZoneCa', () => {
  it('asks for a certificate when it has none, and not again once it holds a valid one (also after a restart)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const first = await loaded(dir);
    assert.equal(first.ready, false);
    const csr = first.helloCsr();
    assert.ok(csr, 'a new zone sends a CSR');
    assert.equal(parseCsr(csr).identity, 'spiffe://meridian.local/region/fra/zone/fra');
    await first.accept(sign(csr), [root.certPem]);
    assert.equal(first.helloCsr(), undefined);
    first.stop();

    const restarted = await loaded(dir);
    assert.equal(restarted.ready, true);
    assert.equal(restarted.certPem, first.certPem);
    assert.deepEqual(restarted.trustBundle.map((p) => p.trim()), [root.certPem.trim()]);
    assert.equal(restarted.helloCsr(), undefined, 'a restart with a valid zone CA asks for none');
    restarted.stop();
  });

  it('arms the renewal for a certificate loaded from the state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const first = await loaded(dir);
    // 3.6 s of life: renewal due at two thirds (about 2.4 s).
    await first.accept(sign(first.helloCsr()!, { validityHours: 0.001 }), [root.certPem]);
    first.stop();
    const restarted = await loaded(dir);
    const t0 = Date.now();
    const csr = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no renewal within 8 s')), 8000);
      restarted.once('renew', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    console.log(`# renewal of a loaded zone CA asked for after ${Date.now() - t0} ms`);
    assert.equal(parseCsr(csr).identity, 'spiffe://meridian.local/region/fra/zone/fra');
    assert.ok(restarted.helloCsr(), 'once due, the next Hello carries a CSR too');
    restarted.stop();
  });

  it('asks for a new certificate when the bundle names another active root (after a root rotation)', async () => {
    const ca = await loaded(fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-')));
    await ca.accept(sign(ca.helloCsr()!), [root.certPem]);
    await ca.accept('', [root.certPem]);
    assert.equal(ca.helloCsr(), undefined, 'the same active root: nothing to ask for');
    const rotated = makeRoot();
    const renewal = new Promise<string>((resolve) => ca.once('renew', resolve));
    await ca.accept('', [rotated.certPem, root.certPem]);
    assert.equal(parseCsr(await renewal).identity, 'spiffe://meridian.local/region/fra/zone/fra');
    assert.ok(ca.helloCsr(), 'and in the next Hello until it has one');
    ca.stop();
  });

  it('does not use a saved certificate that expired or belongs to another key, and asks for a new one', async () => {
    const expiredDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const first = await loaded(expiredDir);
    await first.accept(sign(first.helloCsr()!, { now: new Date(Date.now() - 100 * 3600_000) }), [root.certPem]);
    first.stop();
    const expired = await loaded(expiredDir);
    assert.equal(expired.ready, false, 'an expired certificate is not used');
    assert.ok(expired.helloCsr());
    expired.stop();

    const otherKeyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const second = await loaded(otherKeyDir);
    await second.accept(sign(second.helloCsr()!), [root.certPem]);
    second.stop();
    const otherKey = sealSecret(generateKeyPair().privateKeyPem, stateKey, { purpose: 'zone-ca-key', record: 'zone-ca/fra' });
    fs.writeFileSync(path.join(otherKeyDir, 'zone-ca', 'key.sealed'), JSON.stringify(otherKey), { mode: 0o600 });
    const mismatched = await loaded(otherKeyDir);
    assert.equal(mismatched.ready, false, 'a certificate for another key is not used');
    assert.ok(mismatched.helloCsr());
    mismatched.stop();
  });

  it('writes no private key in the clear: sealed with the state key, which alone opens it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const first = await loaded(dir);
    await first.accept(sign(first.helloCsr()!), [root.certPem]);
    first.stop();
    for (const name of fs.readdirSync(path.join(dir, 'zone-ca'))) {
      assert.doesNotMatch(fs.readFileSync(path.join(dir, 'zone-ca', name), 'utf8'), /PRIVATE KEY/, name);
    }
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'zone-ca', 'key.sealed'), 'utf8')).record, 'zone-ca/fra');
    await assert.rejects(loaded(dir, dataKeyFromBytes(randomBytes(32), 'another state key')), /the state key does not open the zone CA key of region fra in .*key\.sealed/);
    await assert.rejects(loaded(dir, null), /sealed with a state key, and none was given: give it with --state-key-file/);
  });

  it('without a state key keeps the key in memory only: a restart has no usable certificate and asks anew', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const first = await loaded(dir, null);
    assert.equal(first.hasSavedKey, false);
    await first.accept(sign(first.helloCsr()!), [root.certPem]);
    first.stop();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'zone-ca')).sort(), ['cert.pem', 'trust-bundle.pem']);
    const restarted = await loaded(dir, null);
    assert.equal(restarted.ready, false, 'the saved certificate is for the key that is gone');
    assert.ok(restarted.helloCsr());
    restarted.stop();
  });

  it('seals a clear key left by an older version and removes it; refuses it without a state key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-ca-'));
    const first = await loaded(dir, null);
    await first.accept(sign(first.helloCsr()!), [root.certPem]);
    first.stop();
    const clear = path.join(dir, 'zone-ca', 'key.pem');
    // What an older version left: the key of the certificate it holds, in the clear.
    const { privateKeyPem, publicKeyPem } = generateKeyPair();
    fs.writeFileSync(clear, privateKeyPem, { mode: 0o600 });
    await assert.rejects(loaded(dir, null), /key\.pem holds the zone CA key of region fra in the clear .*give a state key \(--state-key-file/);
    assert.ok(fs.existsSync(clear), 'refused, not removed');
    const migrated = await loaded(dir);
    assert.equal(fs.existsSync(clear), false, 'the clear file is gone');
    assert.ok(fs.existsSync(path.join(dir, 'zone-ca', 'key.sealed')));
    assert.equal(parseCsr(migrated.csr()).publicKeyPem.trim(), publicKeyPem.trim(), 'the same key, now sealed');
    migrated.stop();
    const again = await loaded(dir);
    assert.equal(parseCsr(again.csr()).publicKeyPem.trim(), publicKeyPem.trim(), 'and opened from the seal after the next restart');
    again.stop();
  });
});
