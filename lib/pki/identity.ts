// Mesh identities: spiffe://<trust-domain>/region/<region>/<role>/<name>.
// Roles edge, ingress, zone and global name Meridian's own parts; role
// service names a workload of that service in that region.
// This is the one place that decides what an identity looks like; the CA, the
// CSR reader and the chain verifier all go through parseIdentity.
import { PkiError } from './errors';

export const ROLES = ['edge', 'ingress', 'zone', 'global', 'service'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  trustDomain: string;
  region: string;
  role: Role;
  name: string;
}

const SCHEME = 'spiffe://';
// Same rule as resource names (lib/resources/schemas/common.ts): regions and
// proxy names are resource names, so an identity can always be built from them.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;
// Lower-case dotted labels: SPIFFE trust domains are compared byte for byte,
// so upper case, ports and user info are refused rather than normalised.
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_TRUST_DOMAIN = 253;
const EXAMPLE = 'spiffe://meridian.local/region/fra/edge/fra-1';

export function isRole(value: string): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isTrustDomain(value: string): boolean {
  return typeof value === 'string' && value.length <= MAX_TRUST_DOMAIN && TRUST_DOMAIN.test(value);
}

// Regions and names of an identity.
export function isLabel(value: string): boolean {
  return typeof value === 'string' && value.length <= MAX_LABEL && DNS_LABEL.test(value);
}

function refuse(uri: string, reason: string): never {
  throw new PkiError('invalid-identity', `${JSON.stringify(uri)} is not a mesh identity: ${reason} (expected e.g. ${EXAMPLE})`);
}

export function formatIdentity(identity: Identity): string {
  const uri = `${SCHEME}${identity.trustDomain}/region/${identity.region}/${identity.role}/${identity.name}`;
  const problem = partProblem(identity);
  if (problem) refuse(uri, problem);
  return uri;
}

export function parseIdentity(uri: string): Identity {
  if (typeof uri !== 'string' || uri.length === 0) refuse(String(uri), 'empty');
  if (!uri.startsWith(SCHEME)) refuse(uri, 'must start with spiffe://');
  if (/[?#%@:\s]/.test(uri.slice(SCHEME.length))) {
    refuse(uri, 'must not contain a query, fragment, port, user info, percent-encoding or white space');
  }
  const [trustDomain, ...path] = uri.slice(SCHEME.length).split('/');
  if (path.length !== 4) refuse(uri, `path must have exactly 4 segments /region/<region>/<role>/<name>, has ${path.length}`);
  const [literal, region, role, name] = path;
  if (literal !== 'region') refuse(uri, `first path segment must be "region", got ${JSON.stringify(literal)}`);
  const identity = { trustDomain, region, role: role as Role, name };
  const problem = partProblem(identity);
  if (problem) refuse(uri, problem);
  return identity;
}

function partProblem({ trustDomain, region, role, name }: Identity): string | null {
  if (!isTrustDomain(trustDomain)) return `trust domain ${JSON.stringify(trustDomain)} must be lower-case DNS labels separated by dots`;
  if (!isLabel(region)) return `region ${JSON.stringify(region)} must be a DNS label (lower-case letters, digits, '-')`;
  if (!isRole(role)) return `role ${JSON.stringify(role)} must be one of ${ROLES.join(', ')}`;
  if (!isLabel(name)) return `name ${JSON.stringify(name)} must be a DNS label (lower-case letters, digits, '-')`;
  return null;
}

export function isIdentity(uri: string): boolean {
  try {
    parseIdentity(uri);
    return true;
  } catch {
    return false;
  }
}

// The trust domain's own ID, spiffe://<trust-domain>, which the root CA carries.
export function trustDomainId(trustDomain: string): string {
  if (!isTrustDomain(trustDomain)) {
    throw new PkiError('invalid-identity', `trust domain ${JSON.stringify(trustDomain)} must be lower-case DNS labels separated by dots, e.g. meridian.local`);
  }
  return `${SCHEME}${trustDomain}`;
}

// The trust domain of spiffe://<trust-domain>, or null for anything else.
export function parseTrustDomainId(uri: string): string | null {
  if (!uri.startsWith(SCHEME)) return null;
  const rest = uri.slice(SCHEME.length);
  return isTrustDomain(rest) ? rest : null;
}

// TrafficPermission rules: "*" stands for exactly one whole path segment (the
// trust domain counts as the first segment), so spiffe://td/region/*/edge/*
// matches every edge of every region and nothing deeper or shallower. A
// malformed pattern throws: it passed schema validation, so it is a bug, not a no.
export function matchIdentityPattern(pattern: string, uri: string): boolean {
  if (!pattern.startsWith(SCHEME)) {
    throw new PkiError('invalid-identity', `identity pattern ${JSON.stringify(pattern)} must start with spiffe://`);
  }
  const wanted = pattern.slice(SCHEME.length).split('/');
  if (wanted.some((segment) => segment === '' || (segment.includes('*') && segment !== '*'))) {
    throw new PkiError('invalid-identity', `identity pattern ${JSON.stringify(pattern)}: segments must be non-empty and "*" must stand alone as a whole segment`);
  }
  if (!isIdentity(uri)) return false;
  const actual = uri.slice(SCHEME.length).split('/');
  return wanted.length === actual.length && wanted.every((segment, i) => segment === '*' || segment === actual[i]);
}
