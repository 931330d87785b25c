import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type * as tls from 'node:tls';
import { selfSigned } from '../testing/certificates';
import { certificateNames, loadCertificatePairs, SecureContextStore } from './secure-contexts';

describe('certificates for SNI', () => {
  it('loads a directory of NAME.crt + NAME.key, default.crt first', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-certs-'));
    try {
      for (const name of ['b', 'default', 'a']) {
        const c = selfSigned(`${name}.example.com`);
        fs.writeFileSync(path.join(dir, `${name}.crt`), c.cert);
        fs.writeFileSync(path.join(dir, `${name}.key`), c.key);
      }
      fs.writeFileSync(path.join(dir, 'lonely.crt'), selfSigned('lonely').cert);
      const pairs = loadCertificatePairs([dir], []);
      assert.deepEqual(
        pairs.map((p) => path.basename(p.source)),
        ['default.crt', 'a.crt', 'b.crt'],
      );
      assert.throws(() => loadCertificatePairs(['x.crt', 'y.crt'], ['x.key']), /must come in pairs/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a certificate by its SAN DNS entries', () => {
    assert.deepEqual(certificateNames(selfSigned('a', ['a.example.com', '*.b.example.com']).cert), ['a.example.com', '*.b.example.com']);
  });

  it('answers SNI with the exact name, then a wildcard, then the default', () => {
    const a = selfSigned('a', ['a.example.com']);
    const w = selfSigned('w', ['*.apps.example.com']);
    const store = new SecureContextStore([
      { ...a, source: 'a' },
      { ...w, source: 'w' },
    ]);
    const lookup = (name: string) =>
      new Promise<tls.SecureContext | undefined>((resolve) => store.sniCallback(name, (_err, ctx) => resolve(ctx)));
    return Promise.all([lookup('A.example.com'), lookup('x.apps.example.com'), lookup('other')]).then(([ca, cw, cd]) => {
      assert.ok(ca && cw && cd);
      assert.notEqual(ca, cw);
      assert.equal(cd, ca, 'the first certificate is the default');
    });
  });
});
