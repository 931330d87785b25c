import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { createSelfSignedCertificate } from './self-signed';

describe('self-signed certificate', () => {
  it('serves TLS for its names to a client that trusts it', async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'echo.mesh', dnsNames: ['echo.mesh', 'localhost'], ipAddresses: ['127.0.0.1'] });
    const x = new X509Certificate(certPem);
    assert.match(x.subjectAltName ?? '', /DNS:echo\.mesh/);
    assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    const server = https.createServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, servername: 'echo.mesh', ca: certPem, path: '/' }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    assert.equal(body, 'ok');
    server.close();
  });
});
