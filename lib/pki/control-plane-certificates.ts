// Certificates of the control plane's own TLS: the global controller's
// federation server certificate (role `global`, signed by the active root) and
// a zone controller's own leaf (role `zone`, signed by its zone CA), which it
// presents as client on the federation stream and as server on discovery.
// Both are made by the process that holds the CA key for itself, from its own
// public key: no CSR crosses the wire, so no entitlement check is needed
// beyond the CA's own place (checked here).
import { isIP } from 'node:net';
import { PkiError } from './errors';
import { formatIdentity } from './identity';
import { loadIssuer } from './issuer';
import { signCertificate } from './sign-certificate';

const SAN_DNS = 2;
const SAN_URI = 6;
const SAN_IP = 7;

// The global controller's identity: "global" is its region and its role.
export const GLOBAL_REGION = 'global';
export const GLOBAL_NAME = 'controller';

export interface ControlPlaneCertificateOptions {
  caCertPem: string;
  caKeyPem: string;
  publicKeyPem: string;
  trustDomain: string;
  lifetimeMs: number;
  // Host names and IP addresses clients may dial (for clients that check names).
  hosts?: string[];
  now?: Date;
}

export interface ControlPlaneCertificate {
  certPem: string;
  identity: string;
  notBefore: Date;
  notAfter: Date;
}

export function globalIdentity(trustDomain: string): string {
  return formatIdentity({ trustDomain, region: GLOBAL_REGION, role: 'global', name: GLOBAL_NAME });
}

// Signed by a root (never by a zone CA): spiffe://<td>/region/global/global/controller.
export function issueGlobalServerCertificate(options: ControlPlaneCertificateOptions): ControlPlaneCertificate {
  const now = options.now ?? new Date();
  const issuer = loadIssuer(options.caCertPem, options.caKeyPem, now);
  if (issuer.identity) throw new PkiError('invalid-ca', 'the global controller certificate is signed by a root CA, not by a zone CA');
  return sign(issuer, options, globalIdentity(options.trustDomain), now, 'Meridian global controller');
}

// Signed by the zone's CA: spiffe://<td>/region/<region>/zone/<region>.
export function issueZoneLeaf(options: ControlPlaneCertificateOptions): ControlPlaneCertificate {
  const now = options.now ?? new Date();
  const issuer = loadIssuer(options.caCertPem, options.caKeyPem, now);
  if (!issuer.identity || issuer.identity.role !== 'zone') throw new PkiError('invalid-ca', 'a zone leaf is signed by its zone CA');
  const region = issuer.identity.region;
  const identity = formatIdentity({ trustDomain: options.trustDomain, region, role: 'zone', name: region });
  return sign(issuer, options, identity, now, `Meridian zone ${region}`);
}

function sign(issuer: ReturnType<typeof loadIssuer>, options: ControlPlaneCertificateOptions, identity: string, now: Date, cn: string): ControlPlaneCertificate {
  if (issuer.trustDomain !== null && issuer.trustDomain !== options.trustDomain) {
    throw new PkiError('invalid-ca', `CA certificate belongs to trust domain ${issuer.trustDomain}, not ${options.trustDomain}`);
  }
  if (!(options.lifetimeMs > 0)) throw new PkiError('invalid-argument', `lifetimeMs must be a positive number, got ${String(options.lifetimeMs)}`);
  const hosts = [...new Set(options.hosts ?? [])].filter((h) => h && h !== '0.0.0.0' && h !== '::');
  const altNames = [
    { type: SAN_URI, value: identity },
    ...hosts.map((h) => (isIP(h) ? { type: SAN_IP, ip: h } : { type: SAN_DNS, value: h })),
  ];
  const signed = signCertificate({
    publicKeyPem: options.publicKeyPem,
    subject: [
      { shortName: 'CN', value: cn },
      { shortName: 'O', value: 'Meridian' },
    ],
    extensions: [
      { name: 'basicConstraints', critical: true, cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    now,
    // Nothing outlives its issuer.
    notAfter: new Date(Math.min(now.getTime() + options.lifetimeMs, issuer.info.notAfter.getTime())),
    signingKey: issuer.key,
    issuer: { subject: issuer.subject, keyId: issuer.keyId },
  });
  return { certPem: signed.certPem, identity, notBefore: signed.notBefore, notAfter: signed.notAfter };
}
