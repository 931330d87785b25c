// When to renew a certificate: at a fraction of its life (two thirds by
// default, per DESIGN.md), so a failed renewal has a third of the life left
// to be retried before the certificate expires.
import { readCertificate, type CertificateInput } from './certificate';
import { PkiError } from './errors';

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

// notBefore is backdated a minute for clock skew (./sign-certificate.ts); the
// fraction is of the whole encoded life, which moves the time by under a minute.
export function rotationDueAt(certPem: CertificateInput, fraction: number = DEFAULT_ROTATION_FRACTION): Date {
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) {
    throw new PkiError('invalid-argument', `rotation fraction must be in (0, 1], got ${String(fraction)}`);
  }
  const { notBefore, ms } = lifetime(certPem);
  return new Date(notBefore.getTime() + Math.round(ms * fraction));
}

// For a timer: how long from `now` until rotation is due (0 if it already is).
export function msUntilRotation(certPem: CertificateInput, now: Date = new Date(), fraction?: number): number {
  return Math.max(0, rotationDueAt(certPem, fraction).getTime() - now.getTime());
}
