// Certificate: a public TLS certificate the edges serve by SNI for the names
// in spec.hosts. On apply it carries the PEM chain and the PEM private key;
// the global controller seals the key with the data key before it is stored
// and never returns it. Checked here: the chain and key parse, the key belongs
// to the first certificate, and every host is a name the certificate covers.
// Expiry is checked on apply only (certificateExpiryProblem): a certificate
// that expires while in force must not make zones refuse every later change.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod/v4';
import { lengthMessage, refinement, resourceSchema } from './common';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
// A host name, or a wildcard for one label: *.example.com.
const SNI_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

// Every bound of a Certificate, in one place. Every edge parses the chain
// and holds the key.
export const CERTIFICATE_BOUNDS = {
  maxHosts: 100,
  maxChainCertificates: 10,
  // PEM text; a chain of ten 4096-bit RSA certificates is about 20 KiB.
  maxCertificateLength: 65536,
  // A 16384-bit RSA key in PEM is about 13 KiB.
  maxPrivateKeyLength: 16384,
  maxHostLength: 253,
} as const;

const sniName = z.string().superRefine((s, ctx) => {
  if (s.length > CERTIFICATE_BOUNDS.maxHostLength) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${CERTIFICATE_BOUNDS.maxHostLength} characters, got ${s.length}` });
  } else if (!SNI_NAME.test(s)) {
    ctx.addIssue({ code: 'custom', message: `must be a host name in lower case such as api.example.com or *.example.com, got ${JSON.stringify(s)}` });
  }
});

export const certificateSpecSchema = z
  .object({
    hosts: z
      .array(sniName)
      .min(1, lengthMessage('needs at least one host name (SNI) to serve the certificate for'))
      .max(CERTIFICATE_BOUNDS.maxHosts, lengthMessage(`must list at most ${CERTIFICATE_BOUNDS.maxHosts} hosts`)),
    // The leaf first, then the intermediates, as a TLS server sends them.
    certificate: z.string().max(CERTIFICATE_BOUNDS.maxCertificateLength, `must be at most ${CERTIFICATE_BOUNDS.maxCertificateLength} characters`),
    privateKey: z.string().max(CERTIFICATE_BOUNDS.maxPrivateKeyLength, `must be at most ${CERTIFICATE_BOUNDS.maxPrivateKeyLength} characters`),
  })
  .strict()
  .check(
    refinement((spec, ctx) => {
      // A chain or key over its size is not parsed.
      if (ctx.issues.some((issue) => issue.path?.[0] === 'certificate' || issue.path?.[0] === 'privateKey')) return;
      const pems = spec.certificate.match(PEM_CERTIFICATE) ?? [];
      if (pems.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['certificate'], message: 'must hold a PEM certificate chain (-----BEGIN CERTIFICATE-----), leaf first' });
        return;
      }
      if (pems.length > CERTIFICATE_BOUNDS.maxChainCertificates) {
        ctx.addIssue({ code: 'custom', path: ['certificate'], message: `must hold at most ${CERTIFICATE_BOUNDS.maxChainCertificates} certificates, got ${pems.length}` });
        return;
      }
      let leaf: X509Certificate;
      try {
        leaf = new X509Certificate(pems[0]!);
        pems.slice(1).forEach((pem) => new X509Certificate(pem));
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['certificate'], message: `is not a readable X.509 certificate chain: ${(err as Error).message}` });
        return;
      }
      let key: ReturnType<typeof createPrivateKey>;
      try {
        key = createPrivateKey(spec.privateKey);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)' });
        return;
      }
      if (!leaf.checkPrivateKey(key)) {
        ctx.addIssue({ code: 'custom', path: ['privateKey'], message: `does not belong to the certificate (${leaf.subject.replace(/\n/g, ', ')})` });
      }
      spec.hosts.forEach((host, i) => {
        if (!certificateCovers(leaf, host)) {
          ctx.addIssue({ code: 'custom', path: ['hosts', i], message: `${JSON.stringify(host)} is not a name the certificate carries (${leaf.subjectAltName ?? leaf.subject})` });
        }
      });
    }),
  );

export const certificateSchema = resourceSchema('Certificate', certificateSpecSchema);

export type CertificateSpec = z.infer<typeof certificateSpecSchema>;
export type CertificateResource = z.infer<typeof certificateSchema>;

// A wildcard host must be carried as that wildcard; a plain host by name
// (an exact SAN or a matching wildcard SAN).
function certificateCovers(leaf: X509Certificate, host: string): boolean {
  if (host.startsWith('*.')) {
    return (leaf.subjectAltName ?? '').split(',').some((san) => san.trim().toLowerCase() === `dns:${host}`);
  }
  return leaf.checkHost(host) !== undefined;
}

// Refused on apply: a certificate past (or not yet at) its validity.
export function certificateExpiryProblem(doc: CertificateResource, now = new Date()): string | undefined {
  const leaf = new X509Certificate(doc.spec.certificate.match(PEM_CERTIFICATE)![0]!);
  if (new Date(leaf.validTo) <= now) return `spec.certificate: expired at ${new Date(leaf.validTo).toISOString()}`;
  if (new Date(leaf.validFrom) > now) return `spec.certificate: not valid until ${new Date(leaf.validFrom).toISOString()}`;
  return undefined;
}
