// First contact with a TLS server whose root CA the caller knows only by its
// fingerprint (from a join token): read the chain the server presents, take
// the root whose SHA-256 matches, and check that the server's certificate is
// signed by it. Nothing else in that connection is trusted or used; the
// caller then opens its real connection with the root as its trust anchor.
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { certificateFingerprint } from '../pki';
import { parseHostPort } from '../cli/addresses';

export class PinnedRootError extends Error {}

export async function fetchPinnedRoot(address: string, fingerprint: string, timeoutMs = 5000): Promise<string> {
  const { host, port } = parseHostPort(address, 'address');
  const chain = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], timeout: timeoutMs });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true);
      socket.destroy();
      resolve(cert);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no TLS answer from ${address} within ${timeoutMs} ms`));
    });
    socket.once('error', (err) => reject(new Error(`cannot reach ${address} over TLS: ${err.message}`)));
  });
  if (!chain?.raw) throw new PinnedRootError(`${address} presented no certificate`);
  // Walk the presented chain (the server sends its root along for this),
  // checking each signature on the way up to the pinned root.
  const seen = new Set<string>();
  let below: X509Certificate | undefined;
  for (let c: tls.DetailedPeerCertificate | undefined = chain; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    const cert = new X509Certificate(c.raw);
    if (below && !(below.checkIssued(cert) && below.verify(cert.publicKey))) break;
    below = cert;
    if (certificateFingerprint(c.raw) !== fingerprint) continue;
    if (!cert.ca || !cert.checkIssued(cert)) throw new PinnedRootError(`the certificate with fingerprint ${fingerprint} is not a self-signed CA`);
    return cert.toString();
  }
  throw new PinnedRootError(`${address} does not present a chain to the root CA the token names (${fingerprint}); is this the right server, or was the root rotated since the token was made?`);
}
