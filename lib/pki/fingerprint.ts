// A certificate's fingerprint, "sha256:<hex>" of its DER (as kubeadm's
// discovery-token-ca-cert-hash pins a CA): a join token carries the root's, so
// a zone can tell the real global controller on first contact.
import { createHash, X509Certificate } from 'node:crypto';

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

export function certificateFingerprint(cert: string | Buffer): string {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT.test(value);
}
