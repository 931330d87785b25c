// Workload certificates: a workload (an instance of service S in this
// region) sends a CSR with its instance token and gets a leaf for
// spiffe://<td>/region/<region>/service/<S>, signed by the zone CA. The
// workload keeps its key; the identity is the token's, never the CSR's.
// Every answer of POST /v1/workload-certificates is counted by outcome in
// meridian_zone_workload_certificates_total.
import { PkiError, type IssuedLeaf } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import { prom, type Registry } from '../../lib/observability/metrics';
import { LeafRefusal, usableZoneCa } from './leaf-issuer';
import type { ZoneCa } from './zone-ca';

export type WorkloadCertificateOutcome =
  | 'issued'
  | 'unauthenticated' // no instance token that holds (401)
  | 'forbidden' // a token for another region or service (403)
  | 'unknown-service' // 404
  | 'invalid-request' // a body field missing or out of bounds (400)
  | 'invalid-csr' // a CSR that cannot be read, does not verify or has a refused key (400)
  | 'too-large' // 413
  | 'rate-limited' // 429
  | 'unavailable'; // no zone CA yet (503)

export class WorkloadCertificateRefusal extends Error {
  constructor(
    readonly outcome: 'invalid-csr' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'WorkloadCertificateRefusal';
  }
}

// The shortest lifetime a caller may ask for: a certificate must outlive
// the clock skew it is backdated by, and renewals at two thirds of it.
export const MIN_WORKLOAD_LIFETIME_MS = 5 * 60_000;

export class WorkloadCertificateIssuer {
  private readonly outcomes: prom.Counter<'outcome'>;

  constructor(
    private readonly zoneCa: ZoneCa | undefined,
    // The proxies' leaf lifetime: the longest a workload gets.
    readonly maxLifetimeMs: number,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.outcomes = new prom.Counter({
      name: 'meridian_zone_workload_certificates_total',
      help: 'Workload certificate requests, by outcome (issued, unauthenticated, forbidden, unknown-service, invalid-request, invalid-csr, too-large, rate-limited, unavailable)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  count(outcome: WorkloadCertificateOutcome): void {
    this.outcomes.inc({ outcome });
  }

  // Signs; refusals are WorkloadCertificateRefusal. Counts only what it
  // decides itself (issued, invalid-csr, unavailable).
  issue(service: string, csrPem: string, lifetimeMs: number, tokenId: string): IssuedLeaf {
    try {
      const ca = this.usableCa();
      const leaf = ca.signWorkloadLeaf(csrPem, service, Math.min(lifetimeMs, this.maxLifetimeMs));
      this.count('issued');
      this.logger.info({ identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter.toISOString(), tokenId }, 'workload certificate issued');
      return { chainPem: leaf.chainPem, trustBundle: ca.trustBundle, identity: leaf.identity, serial: leaf.serial, notAfter: leaf.notAfter };
    } catch (err) {
      const refusal = asRefusal(err);
      if (!refusal) throw err;
      this.count(refusal.outcome);
      this.logger.warn({ service, tokenId, outcome: refusal.outcome, err: refusal.message }, 'workload certificate refused');
      throw refusal;
    }
  }

  private usableCa(): ZoneCa {
    try {
      return usableZoneCa(this.zoneCa);
    } catch (err) {
      if (err instanceof LeafRefusal) throw new WorkloadCertificateRefusal('unavailable', err.message);
      throw err;
    }
  }
}

function asRefusal(err: unknown): WorkloadCertificateRefusal | undefined {
  if (err instanceof WorkloadCertificateRefusal) return err;
  if (err instanceof PkiError && err.code === 'invalid-csr') return new WorkloadCertificateRefusal('invalid-csr', `csr: ${err.message}`);
  // An expired zone CA (a zone away from the global controller too long).
  if (err instanceof PkiError && err.code === 'invalid-ca') return new WorkloadCertificateRefusal('unavailable', `the zone CA cannot sign: ${err.message}`);
  return undefined;
}
