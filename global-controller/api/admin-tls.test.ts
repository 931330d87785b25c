// The admin API's certificate: issued from the active root for the names
// given, re-issued before it expires and when the roots change, with the same
// in-memory key; or read from the operator's files, refused when they do not
// match. The root store is an in-memory stand-in (this module alone).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { certificateFingerprint, generateKeyPair } from '../../lib/pki';
import { issueGlobalServerCertificate } from '../../lib/pki/control-plane-certificates';
import { makeRoot, TD } from '../../test-support/pki-fixtures';
import { silentLogger } from '../../lib/observability/logger';
import type { RootCaStore } from '../identity/root-ca-store';
import { AdminTls } from './admin-tls';

class FakeRoots {
  root = makeRoot();
  private listeners: Array<() => void> = [];
  async trustBundle(): Promise<string[]> {
    return [this.root.certPem];
  }
  async activeFingerprint(): Promise<string> {
    return certificateFingerprint(this.root.certPem);
  }
  async issueGlobalCertificate(publicKeyPem: string, hosts: string[], lifetimeMs: number) {
    const issued = issueGlobalServerCertificate({ caCertPem: this.root.certPem, caKeyPem: this.root.keyPem, publicKeyPem, trustDomain: TD, hosts, lifetimeMs });
    return { issued, rootPem: this.root.certPem };
  }
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
  rotate(): void {
    this.root = makeRoot();
    for (const l of this.listeners) l();
  }
}

const logger = silentLogger();
const leafOf = (cert: unknown) => new X509Certificate(String(cert).split(/(?<=-----END CERTIFICATE-----)/)[0]!);

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('AdminTls', () => {
  let tls: AdminTls | undefined;
  afterEach(() => tls?.stop());

  it('issues the global identity for the given names, sent with its root', async () => {
    const roots = new FakeRoots();
    tls = new AdminTls(roots as unknown as RootCaStore, logger, { hosts: ['10.0.0.5', 'localhost', 'gc.example.com'] });
    await tls.start();
    const chain = String(tls.secureContext.cert);
    const leaf = leafOf(chain);
    assert.match(leaf.subjectAltName ?? '', /URI:spiffe:\/\/meridian\.local\/region\/global\/global\/controller/);
    assert.match(leaf.subjectAltName ?? '', /IP Address:10\.0\.0\.5/);
    assert.match(leaf.subjectAltName ?? '', /DNS:gc\.example\.com/);
    assert.ok(chain.includes(roots.root.certPem.trim()), 'the root follows the leaf');
    assert.ok(leaf.checkPrivateKey(createPrivateKey(String(tls.secureContext.key))));
  });

  it('re-issues before expiry and at once on a root change, with the same key', async () => {
    const roots = new FakeRoots();
    tls = new AdminTls(roots as unknown as RootCaStore, logger, { hosts: ['localhost'], lifetimeMs: 3000, checkEveryMs: 100 });
    const renewed: string[] = [];
    tls.onRenew((ctx) => renewed.push(String(ctx.cert)));
    await tls.start();
    const first = leafOf(tls.secureContext.cert);
    const second = leafOf(await waitFor('a renewal', () => renewed[0]));
    assert.notEqual(second.serialNumber, first.serialNumber);
    assert.ok(new Date(second.validTo) > new Date(first.validTo), 'the new one lasts longer');
    assert.ok(second.publicKey.equals(first.publicKey), 'the same key, kept in memory');

    const count = renewed.length;
    roots.rotate();
    const after = leafOf(await waitFor('a certificate from the new root', () => renewed.slice(count).find((c) => c.includes(roots.root.certPem.trim()))));
    assert.ok(after.verify(new X509Certificate(roots.root.certPem).publicKey), 'signed by the new root');
  });

  it('serves the operator files, and refuses a key that is not the certificate\'s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-admin-tls-'));
    try {
      const root = makeRoot();
      const key = generateKeyPair();
      const other = generateKeyPair();
      const cert = issueGlobalServerCertificate({ caCertPem: root.certPem, caKeyPem: root.keyPem, publicKeyPem: key.publicKeyPem, trustDomain: TD, lifetimeMs: 3_600_000 }).certPem;
      fs.writeFileSync(path.join(dir, 'tls.crt'), cert);
      fs.writeFileSync(path.join(dir, 'tls.key'), key.privateKeyPem);
      fs.writeFileSync(path.join(dir, 'other.key'), other.privateKeyPem);
      tls = new AdminTls(undefined, logger, { hosts: [], files: { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') } });
      await tls.start();
      assert.equal(tls.secureContext.cert, cert);
      const wrong = new AdminTls(undefined, logger, { hosts: [], files: { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'other.key') } });
      await assert.rejects(wrong.start(), /--https-cert .*tls\.crt and --https-key .*other\.key: not a usable certificate and key/);
      const missing = new AdminTls(undefined, logger, { hosts: [], files: { certFile: path.join(dir, 'none.crt'), keyFile: path.join(dir, 'tls.key') } });
      await assert.rejects(missing.start(), /--https-cert .*none\.crt: no such file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
