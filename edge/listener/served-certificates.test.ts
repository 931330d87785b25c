// Hot reload of the HTTPS listener's certificates, over real TLS handshakes:
// --cert files rewritten on disk, Certificate resources coming and going in
// the view, each selected by SNI.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { createSelfSignedCertificate } from '../../lib/pki';
import { silentLogger } from '../../lib/observability/logger';
import { emptyView, type EdgeView } from '../config/edge-view';
import type { CertificateResource } from '../../lib/resources';
import { EDGE_TLS_POLICY, loadCertificatePairs, SecureContextStore } from './secure-contexts';
import { ServedCertificates } from './served-certificates';

function servedSubject(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      s.destroy();
      resolve(String(cert.subject?.CN));
    });
    s.once('error', reject);
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

function certificateResource(name: string, hosts: string[], pair: { certPem: string; keyPem: string }): CertificateResource {
  return { apiVersion: 'meridian.dev/v1', kind: 'Certificate', metadata: { name }, spec: { hosts, certificate: pair.certPem, privateKey: pair.keyPem } } as CertificateResource;
}

describe('served certificates', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'served-certs-'));
  const certFile = path.join(dir, 'edge.crt');
  const keyFile = path.join(dir, 'edge.key');
  let server: tls.Server;
  let served: ServedCertificates;
  let port = 0;

  before(async () => {
    const first = await createSelfSignedCertificate({ commonName: 'default-1', dnsNames: ['localhost'] });
    fs.writeFileSync(certFile, first.certPem);
    fs.writeFileSync(keyFile, first.keyPem, { mode: 0o600 });
    const contexts = new SecureContextStore(loadCertificatePairs([certFile], [keyFile]));
    server = tls.createServer({ ...contexts.serverOptions(), ...EDGE_TLS_POLICY, SNICallback: contexts.sniCallback }, (s) => s.end());
    contexts.attach(server);
    served = new ServedCertificates({ contexts, paths: [certFile, keyFile], loadFiles: () => loadCertificatePairs([certFile], [keyFile]), pollMs: 100, logger: silentLogger() });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    served.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a Certificate resource for its hosts by SNI, and stops when it is removed', async () => {
    const api = await createSelfSignedCertificate({ commonName: 'api-cert', dnsNames: ['api.example.com', '*.apps.example.com'] });
    const view: EdgeView = { ...emptyView('fra'), certificates: new Map([['api', certificateResource('api', ['api.example.com', '*.apps.example.com'], api)]]) };
    served.onView(view);
    assert.equal(await servedSubject(port, 'api.example.com'), 'api-cert');
    assert.equal(await servedSubject(port, 'x.apps.example.com'), 'api-cert');
    assert.equal(await servedSubject(port, 'other.example.com'), 'default-1', 'other names get the default (first file)');
    const local = await createSelfSignedCertificate({ commonName: 'localhost-cert', dnsNames: ['localhost'] });
    served.onView({ ...view, certificates: new Map([...view.certificates, ['local', certificateResource('local', ['localhost'], local)]]) });
    assert.equal(await servedSubject(port, 'localhost'), 'localhost-cert', 'a resource wins over a file for its hosts');
    served.onView({ ...view, certificates: new Map() });
    assert.equal(await servedSubject(port, 'api.example.com'), 'default-1');
  });

  it('skips a resource whose key does not load and keeps serving the others', async () => {
    const good = await createSelfSignedCertificate({ commonName: 'good-cert', dnsNames: ['good.example.com'] });
    const bad = certificateResource('bad', ['bad.example.com'], { certPem: good.certPem, keyPem: 'garbage' });
    served.onView({ ...emptyView('fra'), certificates: new Map([['bad', bad], ['good', certificateResource('good', ['good.example.com'], good)]]) });
    assert.equal(await servedSubject(port, 'good.example.com'), 'good-cert');
    assert.equal(await servedSubject(port, 'bad.example.com'), 'default-1');
  });

  it('re-reads the --cert files when they change on disk', async () => {
    const next = await createSelfSignedCertificate({ commonName: 'default-2', dnsNames: ['localhost'] });
    const before = served.reloads;
    fs.writeFileSync(keyFile, next.keyPem);
    fs.writeFileSync(certFile, next.certPem);
    const ms = await until('the new default certificate', async () => (await servedSubject(port, 'localhost')) === 'default-2');
    console.log(`# rewritten --cert file served after ${ms} ms (poll 100 ms)`);
    assert.ok(served.reloads > before);
    assert.equal(new X509Certificate(fs.readFileSync(certFile)).subject, 'CN=default-2');
  });
});
