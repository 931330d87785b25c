// The certificate of the TLS rows: self-signed, ECDSA P-256, for bench.mesh
// and 127.0.0.1, made with openssl in the bench's temp dir at the start of a
// run. The edge and nginx serve the same pair.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export function selfSignedCert(dir: string, host: string): CertPair {
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${host}`,
      '-addext', `subjectAltName=DNS:${host},IP:127.0.0.1`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { cert, key };
}
