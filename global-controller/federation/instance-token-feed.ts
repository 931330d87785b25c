// The instance token policy each zone session sends its zone: the public key
// that signs instance tokens and the revoked tokens still within their
// lifetime. Every replica watches the token records in etcd, so a token
// revoked on any replica reaches the zones connected to every replica.
import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from '../../lib/observability/logger';
import type { InstanceTokenPolicy } from '../../proto/generated/meridian/federation/v1/InstanceTokenPolicy';
import { withTimeout } from '../../lib/util/with-timeout';
import type { InstanceTokenSigningKey } from '../auth/instance-token-signing-key';
import { INSTANCE_TOKEN_RECORDS_PREFIX, parseInstanceTokenRecord } from '../auth/instance-token-records';

export interface InstanceTokenFeedOptions {
  etcd: Etcd3;
  signingKey: InstanceTokenSigningKey;
  logger: Logger;
  timeoutMs?: number;
  retryMs?: number;
}

// The policy for a signing key and revoked tokens (id -> expiry in unix
// seconds): a token past its expiry is refused anyway, so it is left out.
export function instanceTokenPolicy(publicKey: string | undefined, revoked: ReadonlyMap<string, number>, now: number): InstanceTokenPolicy {
  const nowSeconds = Math.floor(now / 1000);
  return {
    publicKeys: publicKey ? [publicKey] : [],
    revoked: [...revoked].filter(([, exp]) => exp > nowSeconds).map(([id, expiresAt]) => ({ id, expiresAt })),
  };
}

export class InstanceTokenFeed extends EventEmitter<{ policy: [InstanceTokenPolicy] }> {
  private publicKey: string | undefined;
  // id -> expiry (unix seconds) of revoked tokens.
  private readonly revoked = new Map<string, number>();
  private synced = false;
  private watcher: Watcher | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly opts: InstanceTokenFeedOptions) {
    super();
    this.setMaxListeners(0);
  }

  start(): void {
    void this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.watcher?.cancel().catch(() => undefined);
  }

  // Calls send with the policy now (or as soon as it is known) and on every
  // revocation; returns the function that stops it.
  subscribe(send: (policy: InstanceTokenPolicy) => void): () => void {
    this.on('policy', send);
    if (this.synced) send(this.policy());
    return () => this.off('policy', send);
  }

  policy(now = Date.now()): InstanceTokenPolicy {
    return instanceTokenPolicy(this.publicKey, this.revoked, now);
  }

  // The key (made on first use), then the records listed and watched from
  // that revision; on any failure, start over.
  private async sync(): Promise<void> {
    if (this.stopped) return;
    const { etcd, timeoutMs = 2000 } = this.opts;
    try {
      this.publicKey = (await this.opts.signingKey.get()).publicKeyPem;
      const res = await withTimeout(etcd.getAll().prefix(INSTANCE_TOKEN_RECORDS_PREFIX).exec(), timeoutMs, 'etcd');
      this.revoked.clear();
      for (const kv of res.kvs) this.accept(kv);
      const watcher = await withTimeout(
        etcd.watch().prefix(INSTANCE_TOKEN_RECORDS_PREFIX).startRevision(String(Number(res.header.revision) + 1)).create(),
        timeoutMs,
        'etcd watch',
      );
      if (this.stopped) return void watcher.cancel().catch(() => undefined);
      this.watcher = watcher;
      watcher.on('put', (kv) => {
        if (this.accept(kv)) this.publish();
      });
      watcher.on('error', (err) => {
        this.opts.logger.warn({ err: err.message }, 'instance token watch failed; restarting');
        void watcher.cancel().catch(() => undefined);
        this.retry();
      });
      // 'disconnected' is followed by etcd3's own reconnect from the last revision.
      watcher.on('disconnected', () => undefined);
      this.synced = true;
      this.failing = false;
      this.publish();
    } catch (err) {
      // Once per run of failures: etcd away is common at start, a data key that does not open the key is not.
      if (!this.failing) this.opts.logger.warn({ err: (err as Error).message }, 'cannot load the instance token policy yet; zones get it once it is; retrying');
      this.failing = true;
      this.retry();
    }
  }

  // Whether the revoked set changed.
  private accept(kv: IKeyValue): boolean {
    const record = parseInstanceTokenRecord(kv.value.toString('utf8'));
    if (!record?.revokedAt || this.revoked.has(record.id)) return false;
    this.revoked.set(record.id, Math.floor(Date.parse(record.expiresAt) / 1000));
    return true;
  }

  private publish(): void {
    if (this.synced && !this.stopped) this.emit('policy', this.policy());
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.sync(), this.opts.retryMs ?? 1000);
    this.retryTimer.unref();
  }
}
