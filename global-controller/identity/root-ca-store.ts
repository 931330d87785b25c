// The mesh's root CAs, kept in etcd with their private keys sealed by the
// operator's data key (never in the clear). One root is active and signs zone
// CAs; every unexpired root is trusted, so a rotation has an overlap window in
// which certificates from the old and the new root both verify.
import { createHash, X509Certificate } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import {
  certificateFingerprint,
  createRootCa,
  issueGlobalServerCertificate,
  type ControlPlaneCertificate,
  generateKeyPairAsync,
  issueIntermediate,
  openSealedKey,
  readCertificate,
  ROOT_RSA_KEY_BITS,
  sealPrivateKey,
  type DataKey,
  type IssuedCertificate,
  type SealedKey,
  type SealContext,
} from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import { withTimeout } from '../../lib/util/with-timeout';

const ROOTS = '/meridian/system/ca/roots/';
const ACTIVE = '/meridian/system/ca/active';

interface StoredRoot {
  certPem: string;
  sealedKey: SealedKey;
  createdAt: string;
}

export interface RootSummary {
  id: string;
  active: boolean;
  notBefore: string;
  notAfter: string;
  subject: string;
  // "sha256:<hex>" of the certificate: what the CLI pins (--ca-fingerprint).
  fingerprint: string;
}

export function rootId(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex').slice(0, 16);
}

// A root's key opens only as the key of the root it was stored with.
function rootSealContext(id: string): SealContext {
  return { purpose: 'root-ca-key', record: `root/${id}` };
}

export class RootCaStore {
  private cache: { at: number; active: string; roots: Map<string, StoredRoot> } | undefined;
  // Told when this replica rotates or retires a root (others poll).
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly etcd: Etcd3,
    private readonly dataKey: DataKey,
    readonly trustDomain: string,
    private readonly logger: Logger,
    private readonly opts: { validityDays?: number; zoneCaValidityHours?: number; timeoutMs?: number } = {},
  ) {}

  // Creates the first root, or imports the operator's, unless one exists.
  // Replicas racing here agree through a create-if-absent transaction.
  async ensure(importRoot?: { certPem: string; keyPem: string }): Promise<void> {
    const current = await this.load(true);
    if (current.active) return;
    let certPem: string;
    let keyPem: string;
    if (importRoot) {
      const info = readCertificate(importRoot.certPem, 'imported root CA');
      if (!info.isCa) throw new Error('the imported root certificate is not a CA certificate');
      certPem = importRoot.certPem;
      keyPem = importRoot.keyPem;
    } else {
      keyPem = (await generateKeyPairAsync(ROOT_RSA_KEY_BITS)).privateKeyPem;
      certPem = createRootCa({ trustDomain: this.trustDomain, validityDays: this.opts.validityDays ?? 3650, keyPem }).certPem;
    }
    const id = rootId(certPem);
    const record: StoredRoot = { certPem, sealedKey: sealPrivateKey(keyPem, this.dataKey, rootSealContext(id)), createdAt: new Date().toISOString() };
    const txn = await this.call(
      this.etcd.if(ACTIVE, 'Create', '==', 0).then(this.etcd.put(ROOTS + id).value(JSON.stringify(record)), this.etcd.put(ACTIVE).value(id)).commit(),
    );
    if (txn.succeeded) this.logger.info({ root: id, imported: !!importRoot }, 'mesh root CA created');
    this.cache = undefined;
    await this.load(true);
  }

  // Rotation: a new active root; the old one stays trusted until retired.
  async rotate(): Promise<RootSummary> {
    const keyPem = (await generateKeyPairAsync(ROOT_RSA_KEY_BITS)).privateKeyPem;
    const certPem = createRootCa({ trustDomain: this.trustDomain, validityDays: this.opts.validityDays ?? 3650, keyPem }).certPem;
    const id = rootId(certPem);
    const record: StoredRoot = { certPem, sealedKey: sealPrivateKey(keyPem, this.dataKey, rootSealContext(id)), createdAt: new Date().toISOString() };
    await this.call(this.etcd.if(ROOTS + id, 'Create', '==', 0).then(this.etcd.put(ROOTS + id).value(JSON.stringify(record)), this.etcd.put(ACTIVE).value(id)).commit());
    this.cache = undefined;
    this.logger.info({ root: id }, 'mesh root CA rotated; the previous root stays trusted until retired');
    this.changed();
    return (await this.summaries()).find((r) => r.id === id)!;
  }

  // Ends the overlap: the root is no longer trusted. The active root cannot be retired.
  async retire(id: string): Promise<boolean> {
    const { active } = await this.load(true);
    if (id === active) throw new Error(`root ${id} is the active root; rotate first`);
    const res = await this.call(this.etcd.delete().key(ROOTS + id).exec());
    this.cache = undefined;
    this.changed();
    return Number(res.deleted) > 0;
  }

  onChange(listener: () => void): void {
    this.changeListeners.add(listener);
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  async summaries(): Promise<RootSummary[]> {
    const { active, roots } = await this.load();
    return [...roots].map(([id, r]) => {
      const x = new X509Certificate(r.certPem);
      return { id, active: id === active, notBefore: new Date(x.validFrom).toISOString(), notAfter: new Date(x.validTo).toISOString(), subject: x.subject, fingerprint: certificateFingerprint(r.certPem) };
    });
  }

  // Every unexpired root, active first: what TLS peers must trust.
  async trustBundle(): Promise<string[]> {
    const { active, roots } = await this.load();
    const now = Date.now();
    return [...roots]
      .filter(([, r]) => new Date(new X509Certificate(r.certPem).validTo).getTime() > now)
      .sort(([a], [b]) => (a === active ? -1 : b === active ? 1 : a.localeCompare(b)))
      .map(([, r]) => r.certPem);
  }

  // "sha256:<hex>" of the active root, for join tokens.
  async activeFingerprint(): Promise<string> {
    const { active, roots } = await this.load();
    const root = roots.get(active);
    if (!root) throw new Error('no active root CA');
    return certificateFingerprint(root.certPem);
  }

  // The federation server's certificate, signed by the active root; returns
  // the root with it (the server sends it along for first-contact pinning).
  async issueGlobalCertificate(publicKeyPem: string, hosts: string[], lifetimeMs: number): Promise<{ issued: ControlPlaneCertificate; rootPem: string }> {
    const { active, roots } = await this.load();
    const root = roots.get(active);
    if (!root) throw new Error('no active root CA');
    const issued = issueGlobalServerCertificate({
      caCertPem: root.certPem,
      caKeyPem: openSealedKey(root.sealedKey, this.dataKey, rootSealContext(active)),
      publicKeyPem,
      trustDomain: this.trustDomain,
      hosts,
      lifetimeMs,
    });
    return { issued, rootPem: root.certPem };
  }

  // Signs a zone's CA from its CSR; the zone's key never leaves the zone.
  async issueZoneCa(csrPem: string, region: string): Promise<IssuedCertificate> {
    const { active, roots } = await this.load();
    const root = roots.get(active);
    if (!root) throw new Error('no active root CA');
    return issueIntermediate({
      caCertPem: root.certPem,
      caKeyPem: openSealedKey(root.sealedKey, this.dataKey, rootSealContext(active)),
      csrPem,
      region,
      trustDomain: this.trustDomain,
      validityHours: this.opts.zoneCaValidityHours ?? 7 * 24,
    });
  }

  private async load(fresh = false): Promise<{ active: string; roots: Map<string, StoredRoot> }> {
    if (!fresh && this.cache && Date.now() - this.cache.at < 5000) return this.cache;
    const [list, active] = await Promise.all([this.call(this.etcd.getAll().prefix(ROOTS).strings()), this.call(this.etcd.get(ACTIVE).string())]);
    const roots = new Map<string, StoredRoot>();
    for (const [key, value] of Object.entries(list)) roots.set(key.startsWith(ROOTS) ? key.slice(ROOTS.length) : key, JSON.parse(value) as StoredRoot);
    // A data key that does not open the active root is an operator error worth stopping for.
    const activeRoot = active ? roots.get(active) : undefined;
    if (activeRoot) openSealedKey(activeRoot.sealedKey, this.dataKey, rootSealContext(active!));
    this.cache = { at: Date.now(), active: active ?? '', roots };
    return this.cache;
  }

  private call<T>(p: Promise<T>): Promise<T> {
    return withTimeout(p, this.opts.timeoutMs ?? 3000, 'etcd');
  }
}
