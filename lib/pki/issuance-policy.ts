// What a CA may grant. A CSR names the identity it wants; these checks compare
// it with what the caller is entitled to (its zone, its trust domain) before
// anything is signed. Every refusal says what was asked and what is allowed.
import type { ParsedCsr } from './csr';
import { PkiError } from './errors';
import { parseIdentity, type Identity, type Role } from './identity';

// The only DNS names a leaf may carry: <name>.<region>.mesh.internal, its own
// name in its own region. Proxies find each other by SPIFFE ID; the DNS name is
// for TLS clients that verify a host name (e.g. an edge dialling an ingress).
export const MESH_DNS_SUFFIX = 'mesh.internal';
export const LEAF_ROLES: readonly Role[] = ['edge', 'ingress'];
// A workload's certificate: spiffe://<td>/region/<region>/service/<service>,
// its identity decided by the zone from the caller's instance token.
export const WORKLOAD_ROLE: Role = 'service';

export function allowedLeafDnsNames(identity: Identity): string[] {
  return [`${identity.name}.${identity.region}.${MESH_DNS_SUFFIX}`];
}

export interface Entitlement {
  trustDomain: string;
  region: string;
}

export function checkZoneCaRequest(csr: ParsedCsr, entitled: Entitlement): Identity {
  const identity = checkPlace(csr.identity, entitled);
  if (identity.role !== 'zone') refuse(`CSR asks for identity ${csr.identity} with role ${identity.role}; a zone CA must have role zone`);
  if (csr.dnsNames.length > 0) refuse(`CSR asks for DNS names ${csr.dnsNames.join(', ')}; a zone CA carries only its spiffe:// identity`);
  return identity;
}

export function checkLeafRequest(csr: ParsedCsr, entitled: Entitlement): Identity {
  const identity = checkPlace(csr.identity, entitled);
  if (!LEAF_ROLES.includes(identity.role)) {
    refuse(`CSR asks for identity ${csr.identity} with role ${identity.role}; leaf certificates are issued only for roles ${LEAF_ROLES.join(' and ')}`);
  }
  const allowed = allowedLeafDnsNames(identity);
  const outside = csr.dnsNames.filter((name) => !allowed.includes(name));
  if (outside.length > 0) {
    refuse(`CSR asks for DNS name${outside.length > 1 ? 's' : ''} ${outside.join(', ')}, outside what ${csr.identity} may carry: ${allowed.join(', ')}`);
  }
  return identity;
}

function checkPlace(uri: string, entitled: Entitlement): Identity {
  const identity = parseIdentity(uri);
  if (identity.trustDomain !== entitled.trustDomain) refuse(`CSR asks for identity ${uri}, outside trust domain ${entitled.trustDomain}`);
  if (identity.region !== entitled.region) refuse(`CSR asks for identity ${uri}, outside region ${entitled.region}`);
  return identity;
}

function refuse(message: string): never {
  throw new PkiError('csr-refused', message);
}
