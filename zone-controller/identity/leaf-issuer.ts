// Discovery.IssueCertificate: signs the leaf of one of this region's edges or
// ingresses from its CSR with the zone CA. The proxy keeps its key; what it
// may be is decided here and in lib/pki's issuance policy: this trust domain
// and region, role edge or ingress, and the name the proxy calls itself.
// Every answer is counted: issued by role, refused by reason.
import { formatIdentity, isRole, LEAF_ROLES, parseCsr, parseIdentity, PkiError, type IssuedLeaf } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import { prom, type Registry } from '../../lib/observability/metrics';
import type { ZoneCa } from './zone-ca';

export const DEFAULT_LEAF_LIFETIME_MS = 24 * 3_600_000;

export type RefusalKind = 'malformed-csr' | 'not-allowed' | 'no-ca' | 'not-ready';

export class LeafRefusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
    this.name = 'LeafRefusal';
  }
}

export class LeafIssuer {
  private readonly issued: prom.Counter<'role'>;
  private readonly refused: prom.Counter<'reason'>;

  constructor(
    private readonly zoneCa: ZoneCa | undefined,
    private readonly lifetimeMs: number,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.issued = new prom.Counter({
      name: 'meridian_zone_leaf_certificates_issued_total',
      help: 'Leaf certificates signed for this region\'s edges and ingresses, by role',
      labelNames: ['role'],
      registers: [registry],
    });
    this.refused = new prom.Counter({
      name: 'meridian_zone_leaf_certificates_refused_total',
      help: 'Leaf certificate requests refused, by reason (malformed-csr, not-allowed, no-ca, not-ready)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  // What a proxy of this name and mode is to ask for.
  describe(proxy: string, mode: string): { identity: string; trustDomain: string } {
    const ca = this.usableCa();
    if (!isRole(mode) || !LEAF_ROLES.includes(mode)) throw new LeafRefusal('not-allowed', `mode: leaf certificates are issued for ${LEAF_ROLES.join(' and ')}, not ${JSON.stringify(mode)}`);
    try {
      return { identity: formatIdentity({ trustDomain: ca.trustDomain, region: ca.region, role: mode, name: proxy }), trustDomain: ca.trustDomain };
    } catch (err) {
      throw new LeafRefusal('not-allowed', `proxy: ${(err as Error).message}`);
    }
  }

  issue(proxy: string, csrPem: string): IssuedLeaf {
    try {
      const leaf = this.sign(proxy, csrPem);
      this.issued.inc({ role: parseIdentity(leaf.identity).role });
      this.logger.info({ proxy, identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter.toISOString() }, 'leaf certificate issued');
      return leaf;
    } catch (err) {
      if (!(err instanceof LeafRefusal)) throw err;
      this.refused.inc({ reason: err.kind });
      this.logger.warn({ proxy, reason: err.kind, err: err.message }, 'leaf certificate refused');
      throw err;
    }
  }

  private usableCa(): ZoneCa {
    return usableZoneCa(this.zoneCa);
  }

  private sign(proxy: string, csrPem: string): IssuedLeaf {
    const ca = this.usableCa();
    if (!proxy) throw new LeafRefusal('not-allowed', 'proxy: the proxy\'s name is required');
    let identity: string;
    try {
      identity = parseCsr(csrPem).identity;
    } catch (err) {
      throw new LeafRefusal('malformed-csr', `csr: ${(err as Error).message}`);
    }
    const name = parseIdentity(identity).name;
    if (name !== proxy) throw new LeafRefusal('not-allowed', `csr: asks for identity ${identity}, whose name '${name}' is not the caller's proxy name '${proxy}'`);
    try {
      const leaf = ca.signLeaf(csrPem, this.lifetimeMs);
      return { chainPem: leaf.chainPem, trustBundle: ca.trustBundle, identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter };
    } catch (err) {
      if (err instanceof PkiError && err.code === 'csr-refused') throw new LeafRefusal('not-allowed', `csr: ${err.message}`);
      if (err instanceof PkiError && err.code === 'invalid-csr') throw new LeafRefusal('malformed-csr', `csr: ${err.message}`);
      throw err;
    }
  }
}

// The zone CA when it can sign now, else the refusal (no-ca, not-ready).
export function usableZoneCa(ca: ZoneCa | undefined): ZoneCa {
  if (ca === undefined) throw new LeafRefusal('no-ca', 'this zone controller has no CA: its join token names no trust domain (the global controller runs without --data-key-file)');
  if (!ca.ready) throw new LeafRefusal('not-ready', 'the zone CA has not been issued yet (the zone has not joined the global controller); try again');
  return ca;
}
