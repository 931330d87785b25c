// TrafficPermission at the ingress: which caller identities may reach which
// service. The permissions that name a service (exactly, or "*") decide for
// it: allowed when one of their rules matches (exact SPIFFE ID, or "*" for a
// whole segment, as lib/pki matchIdentityPattern does). A service no permission names
// is open to this mesh's edges and ingresses of any region and to its
// workloads: those with a workload certificate (region/<r>/service/<s>) and
// those a mesh listener took from its region's networks without one
// (region/<r>/network); to nothing else.
import type { TrafficPermissionResource } from '../../lib/resources';

// Decisions kept per (caller, service); callers are bounded by the mesh's
// identities, but a caller could be many services' workloads: a bound.
const MAX_DECISIONS = 10_000;

export class TrafficPermissions {
  private readonly byService = new Map<string, string[]>();
  private readonly everyService: string[] = [];
  private readonly defaults: string[];
  private readonly decided = new Map<string, boolean>();

  constructor(permissions: Iterable<TrafficPermissionResource>, trustDomain: string) {
    for (const p of permissions) {
      const patterns = p.spec.allow.map((rule) => rule.identity);
      if (p.spec.service === '*') this.everyService.push(...patterns);
      else this.byService.set(p.spec.service, [...(this.byService.get(p.spec.service) ?? []), ...patterns]);
    }
    this.defaults = [
      `spiffe://${trustDomain}/region/*/edge/*`,
      `spiffe://${trustDomain}/region/*/ingress/*`,
      `spiffe://${trustDomain}/region/*/service/*`,
      `spiffe://${trustDomain}/region/*/network`,
    ];
  }

  allows(identity: string, service: string): boolean {
    // A mesh listener asks this for every request, mostly for the same few
    // callers: the answer is kept (a new view makes a new TrafficPermissions).
    const key = `${identity} ${service}`;
    const known = this.decided.get(key);
    if (known !== undefined) return known;
    const named = this.byService.get(service);
    const rules = named === undefined && this.everyService.length === 0 ? this.defaults : [...(named ?? []), ...this.everyService];
    const allowed = rules.some((pattern) => matchesPattern(pattern, identity));
    if (this.decided.size >= MAX_DECISIONS) this.decided.clear();
    this.decided.set(key, allowed);
    return allowed;
  }
}

// Segment by segment, "*" standing for one whole segment (the schema checked
// the patterns). Workload and network identities are not proxy identities
// (lib/pki parseIdentity knows the roles it issues): matched here as paths.
function matchesPattern(pattern: string, identity: string): boolean {
  if (pattern === identity) return true;
  const wanted = pattern.split('/');
  const actual = identity.split('/');
  if (wanted.length !== actual.length) return false;
  for (let i = 0; i < wanted.length; i++) if (wanted[i] !== '*' && wanted[i] !== actual[i]) return false;
  return true;
}

// The identity a mesh listener gives a caller without a certificate: its
// region's network. TrafficPermission rules match it like any identity.
export function networkIdentity(trustDomain: string, region: string): string {
  return `spiffe://${trustDomain}/region/${region}/network`;
}

// Proxies (edges and ingresses) of the mesh: the callers whose word an
// ingress takes for the workload they carry a request for.
export function isProxyIdentity(trustDomain: string, identity: string): boolean {
  const prefix = `spiffe://${trustDomain}/region/`;
  if (!identity.startsWith(prefix)) return false;
  const rest = identity.slice(prefix.length).split('/');
  return rest.length === 3 && (rest[1] === 'edge' || rest[1] === 'ingress');
}

// A source identity a proxy may vouch for: a workload's or a network's, of this trust domain.
export function isSourceIdentity(trustDomain: string, identity: string): boolean {
  if (identity.length > 2048) return false;
  const prefix = `spiffe://${trustDomain}/region/`;
  if (!identity.startsWith(prefix)) return false;
  const rest = identity.slice(prefix.length).split('/');
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (rest.length === 2) return label.test(rest[0]!) && rest[1] === 'network';
  return rest.length === 3 && label.test(rest[0]!) && rest[1] === 'service' && label.test(rest[2]!);
}
