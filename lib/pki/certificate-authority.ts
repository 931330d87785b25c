// The mesh CA: the root (global controller), zone intermediates (one per zone
// controller), the leaves of edges and ingresses, and workloads' leaves. Each function is a
// certificate profile plus the policy of ./issuance-policy.ts; a refusal throws
// PkiError before anything is signed.
//
// No nameConstraints on intermediates: X.509 URI constraints match only the
// host part (the trust domain), so they cannot pin a zone CA to its region.
// The region is enforced here at issuance and again by verifyChain.
import { createHash, createPublicKey } from 'node:crypto';
import { parseCsr, readCsrPublicKey } from './csr';
import { PkiError } from './errors';
import { formatIdentity, isLabel, trustDomainId, type Identity } from './identity';
import { checkLeafRequest, checkZoneCaRequest, WORKLOAD_ROLE } from './issuance-policy';
import { loadIssuer, type Issuer } from './issuer';
import { generateKeyPair, loadPrivateKey, ROOT_RSA_KEY_BITS } from './keys';
import { signCertificate } from './sign-certificate';

const SAN_URI = 6;
const SAN_DNS = 2;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface RootCa {
  certPem: string;
  keyPem: string; // PKCS#8; seal it (./sealed-key.ts) before it is stored
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface IssuedCertificate {
  certPem: string;
  identity: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

// A leaf as handed to the proxy that asked for it (Discovery.IssueCertificate):
// the chain it presents (leaf, then zone CA) and the roots it trusts.
export interface IssuedLeaf {
  chainPem: string;
  trustBundle: string[];
  identity: string;
  serial: string;
  notAfter: Date;
}

export interface RootCaOptions {
  trustDomain: string;
  validityDays: number;
  // An existing key (PKCS#8 PEM, RSA): one made off the event loop with
  // generateKeyPairAsync(ROOT_RSA_KEY_BITS), or the current root's key to
  // re-issue it. Without it a 3072-bit key is generated here, synchronously.
  keyPem?: string;
  now?: Date; // the issuance clock; tests backdate with it
}

export interface IntermediateOptions {
  caCertPem: string;
  caKeyPem: string;
  csrPem: string;
  region: string;
  trustDomain: string;
  validityHours: number;
  now?: Date;
}

export interface LeafOptions {
  caCertPem: string;
  caKeyPem: string;
  csrPem: string;
  allowedRegion: string;
  trustDomain: string;
  lifetimeMs: number;
  now?: Date;
}

export interface WorkloadLeafOptions {
  caCertPem: string;
  caKeyPem: string;
  // Only its key is used: the identity is not the CSR's to choose.
  csrPem: string;
  trustDomain: string;
  region: string;
  service: string;
  lifetimeMs: number;
  now?: Date;
}

// Self-signed, CA:true with pathLen 1 (root -> zone CA -> leaf, nothing deeper).
export function createRootCa({ trustDomain, validityDays, keyPem, now = new Date() }: RootCaOptions): RootCa {
  const uri = trustDomainId(trustDomain);
  const durationMs = positive(validityDays, 'validityDays') * DAY_MS;
  const privateKeyPem = keyPem ?? generateKeyPair(ROOT_RSA_KEY_BITS).privateKeyPem;
  const signingKey = loadPrivateKey(privateKeyPem, 'root key');
  const publicKeyPem = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
  const signed = signCertificate({
    publicKeyPem,
    // The key tag keeps names apart when two roots overlap during rotation.
    subject: [
      { shortName: 'CN', value: `Meridian root CA ${keyTag(publicKeyPem)}` },
      { shortName: 'O', value: 'Meridian' },
    ],
    extensions: [
      { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 1 },
      { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
      { name: 'subjectAltName', altNames: [{ type: SAN_URI, value: uri }] },
    ],
    now,
    notAfter: new Date(now.getTime() + durationMs),
    signingKey,
  });
  return { certPem: signed.certPem, keyPem: privateKeyPem, serial: signed.serial, notBefore: signed.notBefore, notAfter: signed.notAfter };
}

// A zone controller's CA for its region: CA:true, pathLen 0 (signs leaves only).
export function issueIntermediate(options: IntermediateOptions): IssuedCertificate {
  const now = options.now ?? new Date();
  const durationMs = positive(options.validityHours, 'validityHours') * HOUR_MS;
  checkEntitlement(options.trustDomain, options.region);
  const issuer = loadIssuer(options.caCertPem, options.caKeyPem, now);
  if (issuer.identity) {
    throw new PkiError('invalid-ca', `CA certificate is the zone CA ${formatIdentity(issuer.identity)}; only the root issues zone CAs`);
  }
  checkIssuerTrustDomain(issuer, options.trustDomain);
  const csr = parseCsr(options.csrPem);
  const identity = checkZoneCaRequest(csr, { trustDomain: options.trustDomain, region: options.region });
  return issue(issuer, {
    publicKeyPem: csr.publicKeyPem,
    uri: csr.identity,
    dnsNames: [],
    now,
    durationMs,
    subject: [
      { shortName: 'CN', value: `Meridian zone CA ${identity.region} ${keyTag(csr.publicKeyPem)}` },
      { shortName: 'O', value: 'Meridian' },
      { shortName: 'L', value: identity.region },
    ],
    extensions: [
      { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
      { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    ],
  });
}

// An edge's or ingress's certificate: usable as TLS server and client.
export function issueLeaf(options: LeafOptions): IssuedCertificate {
  const now = options.now ?? new Date();
  const durationMs = positive(options.lifetimeMs, 'lifetimeMs');
  const issuer = loadLeafIssuer(options.caCertPem, options.caKeyPem, options.trustDomain, options.allowedRegion, now);
  const csr = parseCsr(options.csrPem);
  const identity = checkLeafRequest(csr, { trustDomain: options.trustDomain, region: options.allowedRegion });
  return issue(issuer, leafProfile(identity, { publicKeyPem: csr.publicKeyPem, uri: csr.identity, dnsNames: csr.dnsNames, now, durationMs }));
}

// A workload's certificate, spiffe://<td>/region/<region>/service/<service>,
// for the key of its CSR; the same profile as a proxy's leaf, no DNS name.
export function issueWorkloadLeaf(options: WorkloadLeafOptions): IssuedCertificate {
  const now = options.now ?? new Date();
  const durationMs = positive(options.lifetimeMs, 'lifetimeMs');
  const identity: Identity = { trustDomain: options.trustDomain, region: options.region, role: WORKLOAD_ROLE, name: options.service };
  const uri = formatIdentity(identity);
  const issuer = loadLeafIssuer(options.caCertPem, options.caKeyPem, options.trustDomain, options.region, now);
  const publicKeyPem = readCsrPublicKey(options.csrPem);
  return issue(issuer, leafProfile(identity, { publicKeyPem, uri, dnsNames: [], now, durationMs }));
}

// The zone CA of the region (or the root) that signs a leaf.
function loadLeafIssuer(caCertPem: string, caKeyPem: string, trustDomain: string, region: string, now: Date): Issuer {
  checkEntitlement(trustDomain, region);
  const issuer = loadIssuer(caCertPem, caKeyPem, now);
  if (issuer.identity && issuer.identity.region !== region) {
    throw new PkiError('invalid-ca', `CA certificate is the zone CA of region ${issuer.identity.region}; it cannot issue for region ${region}`);
  }
  checkIssuerTrustDomain(issuer, trustDomain);
  return issuer;
}

function leafProfile(identity: Identity, request: Omit<Issuance, 'subject' | 'extensions'>): Issuance {
  return {
    ...request,
    subject: [
      { shortName: 'CN', value: identity.name },
      { shortName: 'O', value: 'Meridian' },
      { shortName: 'OU', value: identity.role },
      { shortName: 'L', value: identity.region },
    ],
    extensions: [
      { name: 'basicConstraints', critical: true, cA: false },
      // keyEncipherment is RSA key transport; an EC key only signs.
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: createPublicKey(request.publicKeyPem).asymmetricKeyType === 'rsa' },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    ],
  };
}

interface Issuance {
  publicKeyPem: string;
  uri: string;
  dnsNames: string[];
  now: Date;
  durationMs: number;
  subject: { shortName: string; value: string }[];
  extensions: object[];
}

function issue(issuer: Issuer, { publicKeyPem, uri, dnsNames, now, durationMs, subject, extensions }: Issuance): IssuedCertificate {
  // Nothing outlives its issuer: past the CA's notAfter the chain is dead anyway,
  // and a shorter certificate simply rotates sooner.
  const notAfter = new Date(Math.min(now.getTime() + durationMs, issuer.info.notAfter.getTime()));
  const signed = signCertificate({
    publicKeyPem,
    subject,
    extensions: [
      ...extensions,
      { name: 'subjectAltName', altNames: [{ type: SAN_URI, value: uri }, ...dnsNames.map((value) => ({ type: SAN_DNS, value }))] },
    ],
    now,
    notAfter,
    signingKey: issuer.key,
    issuer: { subject: issuer.subject, keyId: issuer.keyId },
  });
  return { certPem: signed.certPem, identity: uri, serial: signed.serial, notBefore: signed.notBefore, notAfter: signed.notAfter };
}

function checkEntitlement(trustDomain: string, region: string): void {
  trustDomainId(trustDomain);
  if (!isLabel(region)) throw new PkiError('invalid-argument', `region ${JSON.stringify(region)} must be a DNS label (lower-case letters, digits, '-')`);
}

function checkIssuerTrustDomain(issuer: Issuer, trustDomain: string): void {
  if (issuer.trustDomain !== null && issuer.trustDomain !== trustDomain) {
    throw new PkiError('invalid-ca', `CA certificate belongs to trust domain ${issuer.trustDomain}, not ${trustDomain}`);
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new PkiError('invalid-argument', `${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

// First 8 hex digits of the SHA-256 of the public key: tells CAs apart by name.
function keyTag(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 8);
}
