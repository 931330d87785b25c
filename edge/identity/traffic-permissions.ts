// TrafficPermission at the ingress: which caller identities may reach which
// service. The permissions that name a service (exactly, or "*") decide for
// it: allowed when one of their rules matches (exact SPIFFE ID, or "*" for a
// whole segment, lib/pki matchIdentityPattern). A service no permission names
// is open to this mesh's edges and ingresses of any region, and to nothing else.
import { matchIdentityPattern } from '../../lib/pki';
import type { TrafficPermissionResource } from '../../lib/resources';

export class TrafficPermissions {
  private readonly byService = new Map<string, string[]>();
  private readonly everyService: string[] = [];
  private readonly defaults: string[];

  constructor(permissions: Iterable<TrafficPermissionResource>, trustDomain: string) {
    for (const p of permissions) {
      const patterns = p.spec.allow.map((rule) => rule.identity);
      if (p.spec.service === '*') this.everyService.push(...patterns);
      else this.byService.set(p.spec.service, [...(this.byService.get(p.spec.service) ?? []), ...patterns]);
    }
    this.defaults = [`spiffe://${trustDomain}/region/*/edge/*`, `spiffe://${trustDomain}/region/*/ingress/*`];
  }

  allows(identity: string, service: string): boolean {
    const named = this.byService.get(service);
    const rules = named === undefined && this.everyService.length === 0 ? this.defaults : [...(named ?? []), ...this.everyService];
    return rules.some((pattern) => matchIdentityPattern(pattern, identity));
  }
}
