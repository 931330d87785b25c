// Verifies a leaf against a set of trusted roots and says why not, with the
// mesh's own rules on top of X.509: the leaf carries exactly one SPIFFE ID,
// and a zone CA only vouches for edges and ingresses of its own region (and
// for its workloads, role service, where the caller accepts them: leafRoles). For
// ingress-side checks after Node's TLS handshake and for tests; several roots
// may be trusted at once (root rotation overlap).
import { readCertificate, type CertificateInfo, type CertificateInput } from './certificate';
import { PkiError } from './errors';
import { parseIdentity, parseTrustDomainId, type Role } from './identity';
import { LEAF_ROLES } from './issuance-policy';

export type VerifyFailureReason =
  | 'malformed' // a certificate cannot be read
  | 'untrusted' // no path of valid signatures from the leaf to a trusted root
  | 'expired'
  | 'not-yet-valid'
  | 'not-a-ca' // a certificate in the path signs others without being a CA
  | 'path-too-long' // more CAs below a CA than its pathLenConstraint allows
  | 'leaf-is-ca' // a CA certificate presented as a leaf
  | 'no-identity' // the leaf has no single, valid spiffe:// URI SAN
  | 'identity-mismatch'; // the leaf's identity is outside what its issuer may vouch for

export type VerifyResult =
  | { ok: true; identity: string; serial: string; notAfter: Date }
  | { ok: false; reason: VerifyFailureReason; message: string };

export interface VerifyChainOptions {
  leafPem: CertificateInput;
  chainPems?: CertificateInput[]; // intermediates, in any order
  rootPems: CertificateInput[];
  at?: Date;
  // The roles a zone CA's leaf may have: LEAF_ROLES (the proxies) when
  // absent; add WORKLOAD_ROLE where workloads' certificates are accepted.
  leafRoles?: readonly Role[];
}

interface Named {
  info: CertificateInfo;
  label: string;
}

class Refusal {
  constructor(
    readonly reason: VerifyFailureReason,
    readonly message: string,
  ) {}
}

export function verifyChain({ leafPem, chainPems = [], rootPems, at = new Date(), leafRoles = LEAF_ROLES }: VerifyChainOptions): VerifyResult {
  try {
    const leaf = read(leafPem, 'leaf certificate');
    const chain = chainPems.map((pem, i) => read(pem, `chain certificate ${i}`));
    const roots = rootPems.map((pem, i) => read(pem, `root certificate ${i}`));
    const path = buildPath(leaf, chain, roots);
    checkValidity(path, at);
    checkCaFlags(path);
    const identity = checkIdentity(path, leafRoles);
    return { ok: true, identity, serial: leaf.info.serial, notAfter: leaf.info.notAfter };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.reason, message: err.message };
    throw err;
  }
}

function read(input: CertificateInput, label: string): Named {
  try {
    return { info: readCertificate(input, label), label };
  } catch (err) {
    if (err instanceof PkiError) throw new Refusal('malformed', err.message);
    throw err;
  }
}

function describe({ info, label }: Named): string {
  return `${label} (${info.identity ?? info.uris[0] ?? info.x509.subject.replace(/\n/g, ', ')}, serial ${info.serial})`;
}

function issuedBy(child: Named, parent: Named): boolean {
  // checkIssued compares names, key identifiers and the parent's keyCertSign usage
  return child.info.x509.checkIssued(parent.info.x509) && child.info.x509.verify(parent.info.x509.publicKey);
}

// Walks up from the leaf, preferring a trusted root at each step; each
// intermediate is used once, so a loop in the chain cannot spin.
function buildPath(leaf: Named, chain: Named[], roots: Named[]): Named[] {
  const path = [leaf];
  const unused = new Set(chain);
  for (let current = leaf; ; ) {
    const root = roots.find((candidate) => issuedBy(current, candidate));
    if (root) return [...path, root];
    const next = [...unused].find((candidate) => issuedBy(current, candidate));
    if (!next) {
      const seen = path.length > 1 ? ` (via ${path.slice(1).map(describe).join(' <- ')})` : '';
      throw new Refusal('untrusted', `${describe(current)} was not issued by any of the ${roots.length} trusted root(s) or the chain given${seen}`);
    }
    unused.delete(next);
    path.push(next);
    current = next;
  }
}

function checkValidity(path: Named[], at: Date): void {
  for (const cert of path) {
    if (at < cert.info.notBefore) {
      throw new Refusal('not-yet-valid', `${describe(cert)} is not valid until ${cert.info.notBefore.toISOString()} (checked at ${at.toISOString()})`);
    }
    if (at > cert.info.notAfter) {
      throw new Refusal('expired', `${describe(cert)} expired at ${cert.info.notAfter.toISOString()} (checked at ${at.toISOString()})`);
    }
  }
}

function checkCaFlags([leaf, ...issuers]: Named[]): void {
  if (leaf.info.isCa) throw new Refusal('leaf-is-ca', `${describe(leaf)} is a CA certificate, not a leaf`);
  issuers.forEach((issuer, below) => {
    if (!issuer.info.isCa) throw new Refusal('not-a-ca', `${describe(issuer)} signed a certificate but is not a CA`);
    // `below` = the number of intermediate CAs between this CA and the leaf
    if (issuer.info.pathLen !== null && below > issuer.info.pathLen) {
      throw new Refusal('path-too-long', `${describe(issuer)} allows ${issuer.info.pathLen} CA(s) below it, the path has ${below}`);
    }
  });
}

// The leaf's SPIFFE ID must lie within every CA above it: the trust domain of
// each CA that names one, and the region of the zone CA that signed it.
function checkIdentity([leaf, ...issuers]: Named[], leafRoles: readonly Role[]): string {
  const uri = leaf.info.identity;
  if (!uri) {
    const uris = leaf.info.uris;
    const found = uris.length === 0 ? 'no URI SAN' : `URI SANs ${uris.join(', ')}`;
    throw new Refusal('no-identity', `${describe(leaf)} must carry exactly one spiffe://<trust-domain>/region/<region>/<role>/<name> URI SAN; it has ${found}`);
  }
  const identity = parseIdentity(uri);
  for (const issuer of issuers) {
    const zone = issuer.info.identity ? parseIdentity(issuer.info.identity) : null;
    const trustDomain = zone?.trustDomain ?? issuer.info.uris.map(parseTrustDomainId).find((td) => td !== null) ?? null;
    if (trustDomain !== null && trustDomain !== identity.trustDomain) {
      throw new Refusal('identity-mismatch', `leaf identity ${uri} is outside trust domain ${trustDomain} of ${describe(issuer)}`);
    }
    if (zone && issuer === issuers[0]) {
      if (zone.role !== 'zone' || zone.region !== identity.region || !leafRoles.includes(identity.role)) {
        throw new Refusal('identity-mismatch', `leaf identity ${uri} is outside what ${describe(issuer)} may issue: roles ${leafRoles.join(' and ')} in region ${zone.region}`);
      }
    }
  }
  return uri;
}
