// The mesh listener's boundary, decided per request: the caller must be a
// workload of this region (its address inside the Region's instance
// networks, by the rule that registrations follow); it is identified by its
// workload certificate when it presents one on the TLS listener (checked
// against the mesh roots), else by its region's network identity; and that
// identity must be allowed to call the service by TrafficPermission. A
// refusal is a 403 with a short reason, counted in
// meridian_mesh_refused_total{reason}; an allowed request in
// meridian_mesh_allowed_total{caller="workload"|"network"}.
import type { Logger } from '../../lib/observability/logger';
import type { TrafficPermissionResource } from '../../lib/resources';
import { prom, type Registry } from '../../lib/observability/metrics';
import { InstanceAddressPolicy } from '../../lib/net/instance-address-policy';
import { LEAF_ROLES, WORKLOAD_ROLE } from '../../lib/pki';
import type { EdgeView } from '../config/edge-view';
import { checkClientCertificate, REFUSAL_MESSAGES, tlsSocketOf } from './client-certificate';
import { networkIdentity, TrafficPermissions } from './traffic-permissions';

export interface MeshCaller {
  identity: string;
  kind: 'workload' | 'network';
  address: string;
}

export interface MeshRefusal {
  status: 403;
  message: string;
}

export function isMeshRefusal(x: MeshCaller | MeshRefusal): x is MeshRefusal {
  return (x as MeshRefusal).status === 403;
}

// A workload presents its workload certificate; a proxy of the mesh may call too.
const MESH_CALLER_ROLES = [...LEAF_ROLES, WORKLOAD_ROLE];

type RefusalReason = 'outside-networks' | 'no-client-certificate' | 'untrusted' | 'expired' | 'invalid' | 'not-allowed';

const MAX_LOGGED_PER_REASON = 1024;

// Requests of one peer address seen in a row share the verdict on it.
interface AddressVerdict {
  address: string;
  policy: InstanceAddressPolicy;
  refusal: string | undefined;
}

export class MeshAuthorizer {
  private permissions: TrafficPermissions;
  private policy = new InstanceAddressPolicy(undefined);
  private networksText = '';
  private last: AddressVerdict | undefined;
  private readonly refused: prom.Counter<'reason'>;
  private readonly allowed: prom.Counter<'caller'>;
  // Refusals logged, once per peer address and reason, bounded per reason:
  // callers outside the networks (any number of addresses) cannot use up
  // the lines of the region's own refused callers.
  private readonly loggedRefusals = new Map<RefusalReason, Set<string>>();

  constructor(
    private readonly region: string,
    private readonly trustDomain: string,
    private roots: readonly string[],
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.permissions = new TrafficPermissions([], trustDomain);
    this.refused = new prom.Counter({
      name: 'meridian_mesh_refused_total',
      help: 'Requests and connections the mesh listener refused, by reason (outside-networks, untrusted, expired, invalid, not-allowed)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.allowed = new prom.Counter({
      name: 'meridian_mesh_allowed_total',
      help: 'Requests and connections the mesh listener let through, by how the caller was identified (workload certificate, or network)',
      labelNames: ['caller'],
      registers: [registry],
    });
  }

  get networkIdentity(): string {
    return networkIdentity(this.trustDomain, this.region);
  }

  setTrustBundle(roots: readonly string[]): void {
    this.roots = roots;
  }

  // The Region's networks and the TrafficPermissions of a new view.
  setView(view: EdgeView): void {
    const networks = view.regions.get(this.region)?.spec.instanceNetworks;
    const text = (networks ?? []).join(',');
    if (text !== this.networksText || this.last === undefined) {
      this.networksText = text;
      this.policy = new InstanceAddressPolicy(networks);
      this.last = undefined;
    }
    this.setPermissions(view.trafficPermissions.values());
  }

  setPermissions(permissions: Iterable<TrafficPermissionResource>): void {
    this.permissions = new TrafficPermissions(permissions, this.trustDomain);
  }

  // Why a peer address may not call the mesh listener, or undefined.
  checkAddress(address: string | undefined): string | undefined {
    if (address === undefined) return 'the caller has no address';
    const last = this.last;
    if (last !== undefined && last.address === address && last.policy === this.policy) return last.refusal;
    const verdict = this.policy.check(address);
    const refusal = verdict.ok ? undefined : verdict.reason;
    this.last = { address, policy: this.policy, refusal };
    return refusal;
  }

  // Who calls: a caller of the region, identified by its certificate (TLS
  // listener, when it sent one) or its network; or the refusal.
  authenticate(req: { socket?: { remoteAddress?: string } | null; stream?: unknown }, tls: boolean): MeshCaller | MeshRefusal {
    const address = req.socket?.remoteAddress ?? undefined;
    const outside = this.checkAddress(address);
    if (outside !== undefined) return this.refuse('outside-networks', `the mesh listener takes callers of region ${this.region} only: ${outside}`, address);
    if (tls) {
      const socket = tlsSocketOf(req);
      if (socket !== undefined && socket.getPeerCertificate() !== null && Object.keys(socket.getPeerCertificate()).length > 0) {
        const check = checkClientCertificate(socket, this.roots, new Date(), MESH_CALLER_ROLES);
        if (!check.ok) return this.refuse(check.reason, REFUSAL_MESSAGES[check.reason], address, check.detail);
        if (Date.now() > check.notAfterMs) return this.refuse('expired', REFUSAL_MESSAGES.expired, address);
        return { identity: check.identity, kind: 'workload', address: address! };
      }
    }
    return { identity: this.networkIdentity, kind: 'network', address: address! };
  }

  // May this caller call the service? undefined when it may. A TrafficRoute
  // split may send the request to another service (backend): the caller must
  // be allowed to call that one too, as the backend's region's ingress would
  // require were it served there.
  permit(caller: MeshCaller, service: string, backend = service): MeshRefusal | undefined {
    for (const name of backend === service ? [service] : [service, backend]) {
      if (!this.permissions.allows(caller.identity, name)) {
        return this.refuse('not-allowed', `identity ${caller.identity} is not allowed to call service ${name}`, caller.address);
      }
    }
    this.allowed.inc({ caller: caller.kind });
    return undefined;
  }

  // A TCP connection to a mesh listener port: its address, then the
  // service's permission for the network identity. A refusal reason, or undefined.
  checkConnection(address: string | undefined, service: string): string | undefined {
    const caller = this.authenticate({ socket: { remoteAddress: address } }, false);
    if (isMeshRefusal(caller)) return caller.message;
    return this.permit(caller, service)?.message;
  }

  private refuse(reason: RefusalReason, message: string, address: string | undefined, detail?: string): MeshRefusal {
    this.refused.inc({ reason });
    let logged = this.loggedRefusals.get(reason);
    if (logged === undefined) this.loggedRefusals.set(reason, (logged = new Set()));
    const key = String(address);
    if (!logged.has(key) && logged.size < MAX_LOGGED_PER_REASON) {
      logged.add(key);
      this.logger.warn({ reason, peer: address, detail: detail ?? message }, 'mesh listener refused a caller');
    }
    return { status: 403, message };
  }
}
