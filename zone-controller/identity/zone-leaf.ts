// The zone controller's own certificate, signed by its zone CA:
// spiffe://<td>/region/<region>/zone/<region>. It is the client certificate
// of the federation stream (mTLS after the join) and the server certificate
// of the discovery port. The key is made at start and stays in memory; the
// leaf is re-issued when the zone CA changes and at two thirds of its life.
import { EventEmitter } from 'node:events';
import { generateKeyPairAsync, msUntilRotation } from '../../lib/pki';
import type { MeshTlsMaterial } from '../../lib/grpc/mesh-credentials';
import type { Logger } from '../../lib/observability/logger';
import type { ZoneCa } from './zone-ca';

export declare interface ZoneLeaf {
  on(event: 'change', listener: () => void): this;
}

export class ZoneLeaf extends EventEmitter {
  private keyPem = '';
  private publicKeyPem = '';
  private chainPem = '';
  // The zone CA certificate that signed the current leaf.
  issuerPem = '';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly zoneCa: ZoneCa,
    private readonly logger: Logger,
    private readonly lifetimeMs = 24 * 3600_000,
  ) {
    super();
  }

  // Makes the key (on the thread pool: it may run alongside the zone CA's
  // own), then issues the leaf whenever the zone CA is (or becomes) ready.
  async start(): Promise<void> {
    const pair = await generateKeyPairAsync();
    if (this.stopped) return;
    this.keyPem = pair.privateKeyPem;
    this.publicKeyPem = pair.publicKeyPem;
    this.zoneCa.on('installed', () => this.issue());
    if (this.zoneCa.ready) this.issue();
  }

  // Roots, and this zone's chain and key once the zone CA is there.
  material(): MeshTlsMaterial {
    return { rootsPem: this.zoneCa.trustBundle, ...(this.chainPem ? { certChainPem: this.chainPem, keyPem: this.keyPem } : {}) };
  }

  get ready(): boolean {
    return !!this.chainPem;
  }

  private issue(): void {
    clearTimeout(this.timer);
    try {
      const leaf = this.zoneCa.issueOwnLeaf(this.publicKeyPem, this.lifetimeMs);
      this.chainPem = leaf.certPem + this.zoneCa.certPem;
      this.issuerPem = this.zoneCa.certPem;
      const dueInMs = Math.max(1000, msUntilRotation(leaf.certPem));
      this.timer = setTimeout(() => this.issue(), Math.min(dueInMs, 2 ** 31 - 1));
      this.logger.info({ identity: leaf.identity, notAfter: leaf.notAfter.toISOString() }, 'zone leaf issued');
    } catch (err) {
      // An expired zone CA (a zone away too long) cannot sign: wait for a new one.
      this.logger.error({ err: (err as Error).message }, 'cannot issue the zone leaf');
      this.chainPem = '';
      this.issuerPem = '';
    }
    this.timer?.unref();
    this.emit('change');
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
