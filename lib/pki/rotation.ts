// When to renew a certificate: at a fraction of its life (two thirds by
// default, per DESIGN.md), so a failed renewal has a third of the life left
// to be retried before the certificate expires.
import { readCertificate, type CertificateInput } from './certificate';
import { PkiError } from './errors';
import { CLOCK_SKEW_MS } from './sign-certificate';

export const DEFAULT_ROTATION_FRACTION = 2 / 3;

export interface Lifetime {
  notBefore: Date;
  notAfter: Date;
  ms: number;
}

export function lifetime(certPem: CertificateInput): Lifetime {
  const { notBefore, notAfter } = readCertificate(certPem);
  return { notBefore, notAfter, ms: notAfter.getTime() - notBefore.getTime() };
}

// notBefore is backdated a minute for clock skew (./sign-certificate.ts), so
// the fraction is of the life from issuance (notBefore + that minute) to
// notAfter: a leaf of a few seconds (tests, --leaf-lifetime 6s) would
// otherwise be due before it was issued.
export function rotationDueAt(certPem: CertificateInput, fraction: number = DEFAULT_ROTATION_FRACTION): Date {
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) {
    throw new PkiError('invalid-argument', `rotation fraction must be in (0, 1], got ${String(fraction)}`);
  }
  const { notBefore, notAfter } = lifetime(certPem);
  const issuedAt = Math.min(notBefore.getTime() + CLOCK_SKEW_MS, notAfter.getTime());
  return new Date(issuedAt + Math.round((notAfter.getTime() - issuedAt) * fraction));
}

// For a timer: how long from `now` until rotation is due (0 if it already is).
export function msUntilRotation(certPem: CertificateInput, now: Date = new Date(), fraction?: number): number {
  return Math.max(0, rotationDueAt(certPem, fraction).getTime() - now.getTime());
}
