// The ingress's mTLS boundary, decided per request: the caller's client
// certificate must chain to the mesh roots (checked once per connection,
// its expiry on every request), and its identity must be allowed to call the
// service by TrafficPermission. A refusal is a 403 with a short reason,
// logged once per connection (and service), and counted in
// meridian_ingress_refused_total{reason}; a verified request is counted in
// meridian_ingress_verified_requests_total{identity}.
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../lib/observability/logger';
import type { TrafficPermissionResource } from '../../lib/resources';
import { prom, type Registry } from '../../lib/observability/metrics';
import { checkClientCertificate, REFUSAL_MESSAGES, tlsSocketOf, type ClientCertificateCheck } from './client-certificate';
import { isProxyIdentity, isSourceIdentity, TrafficPermissions } from './traffic-permissions';

// A request as the checks read it: its connection (HTTP/1.1) or stream (HTTP/2).
export interface CallerRequest {
  socket?: { remoteAddress?: string } | null;
  stream?: unknown;
}

export interface IngressRefusal {
  status: 403;
  message: string;
}

interface Connection {
  roots: readonly string[];
  check: ClientCertificateCheck;
  logged: boolean;
  deniedLogged: Set<string> | undefined;
  verified: prom.Counter.Internal | undefined;
}

export type VerifiedCaller = Connection & { check: Extract<ClientCertificateCheck, { ok: true }> };

export function isRefusal(x: VerifiedCaller | IngressRefusal): x is IngressRefusal {
  return (x as IngressRefusal).status === 403;
}

export interface PeerSeen {
  serial: string;
  lastSeenAtMs: number;
}

export class IngressAuthorizer {
  private readonly connections = new WeakMap<TLSSocket, Connection>();
  private permissions: TrafficPermissions;
  private readonly refused: prom.Counter<'reason'>;
  private readonly verified: prom.Counter<'identity'>;
  // The serial last seen from each caller identity (/v1/view).
  readonly peers = new Map<string, PeerSeen>();

  constructor(
    private roots: readonly string[],
    private readonly trustDomain: string,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.permissions = new TrafficPermissions([], trustDomain);
    this.refused = new prom.Counter({
      name: 'meridian_ingress_refused_total',
      help: 'Requests the ingress refused at its mTLS boundary, by reason (no-client-certificate, untrusted, expired, invalid, not-allowed)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.verified = new prom.Counter({
      name: 'meridian_ingress_verified_requests_total',
      help: 'Requests the ingress took from a verified mesh peer, by the caller identity',
      labelNames: ['identity'],
      registers: [registry],
    });
  }

  setTrustBundle(roots: readonly string[]): void {
    this.roots = roots;
  }

  // The TrafficPermissions of a new view.
  setPermissions(permissions: Iterable<TrafficPermissionResource>): void {
    this.permissions = new TrafficPermissions(permissions, this.trustDomain);
  }

  // First, before routing: who is calling? A verified caller (its
  // connection), or the refusal.
  authenticate(req: CallerRequest): VerifiedCaller | IngressRefusal {
    const socket = tlsSocketOf(req);
    if (socket === undefined) return this.refuse(undefined, 'no-client-certificate', 'not a TLS connection', req);
    const connection = this.connection(socket);
    const check = connection.check;
    if (!check.ok) return this.refuse(connection, check.reason, check.detail, req);
    if (Date.now() > check.notAfterMs) {
      return this.refuse(connection, 'expired', `${check.identity} (serial ${check.serial}) expired at ${new Date(check.notAfterMs).toISOString()} while its connection stayed open`, req);
    }
    return connection as VerifiedCaller;
  }

  // Then, once the service is known: may this caller call it? undefined when
  // it may. A proxy that carries a workload's request names the workload
  // (x-meridian-source-identity): the permission is then the workload's.
  permit(caller: VerifiedCaller, service: string, req: CallerRequest, source?: string): IngressRefusal | undefined {
    const { identity, serial } = caller.check;
    let decided = identity;
    if (source !== undefined && isProxyIdentity(this.trustDomain, identity)) {
      if (!isSourceIdentity(this.trustDomain, source)) {
        this.refused.inc({ reason: 'invalid' });
        return { status: 403, message: `source identity ${JSON.stringify(source.slice(0, 200))} is not a workload or network identity of trust domain ${this.trustDomain}` };
      }
      decided = source;
    }
    if (!this.permissions.allows(decided, service)) {
      this.refused.inc({ reason: 'not-allowed' });
      caller.deniedLogged ??= new Set();
      const key = `${decided} ${service}`;
      if (!caller.deniedLogged.has(key) && caller.deniedLogged.size < 256) {
        caller.deniedLogged.add(key);
        this.logger.warn({ identity, source: decided !== identity ? decided : undefined, service, peer: req.socket?.remoteAddress }, 'ingress refused a caller: no TrafficPermission allows it');
      }
      return { status: 403, message: `identity ${decided} is not allowed to call service ${service}` };
    }
    (caller.verified ??= this.verified.labels({ identity })).inc();
    const now = Date.now();
    const seen = this.peers.get(identity);
    if (seen === undefined) this.peers.set(identity, { serial, lastSeenAtMs: now });
    else {
      seen.serial = serial;
      seen.lastSeenAtMs = now;
    }
    return undefined;
  }

  // The source identity this ingress may pass on (relaying) for a caller
  // permit() let through: only what a proxy named (permit checked it).
  vouchedSource(caller: VerifiedCaller, source: string | undefined): string | undefined {
    return source !== undefined && isProxyIdentity(this.trustDomain, caller.check.identity) ? source : undefined;
  }

  // Verified once per connection and trust bundle.
  private connection(socket: TLSSocket): Connection {
    let c = this.connections.get(socket);
    if (c === undefined || c.roots !== this.roots) {
      c = { roots: this.roots, check: checkClientCertificate(socket, this.roots), logged: false, deniedLogged: undefined, verified: undefined };
      this.connections.set(socket, c);
    }
    return c;
  }

  private refuse(connection: Connection | undefined, reason: Exclude<ClientCertificateCheck, { ok: true }>['reason'], detail: string, req: CallerRequest): IngressRefusal {
    this.refused.inc({ reason });
    if (connection === undefined || !connection.logged) {
      if (connection !== undefined) connection.logged = true;
      this.logger.warn({ reason, detail, peer: req.socket?.remoteAddress }, 'ingress refused a caller');
    }
    return { status: 403, message: REFUSAL_MESSAGES[reason] };
  }
}
