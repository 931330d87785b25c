// The key that signs zone join tokens. Created once per mesh by whichever
// replica gets there first (a create-if-absent transaction) and shared by all
// replicas through etcd, so any replica can verify any token.
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { withTimeout } from '../../lib/util/with-timeout';

const KEY = '/meridian/system/join-signing-key';

export class JoinSigningKey {
  private key: Buffer | undefined;
  private loading: Promise<Buffer> | undefined;

  constructor(private readonly etcd: Etcd3, private readonly timeoutMs = 2000) {}

  // Resolves the key, loading or creating it on first use. Rejects while etcd
  // is unreachable and tries again on the next call.
  get(): Promise<Buffer> {
    if (this.key) return Promise.resolve(this.key);
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<Buffer> {
    const fresh = randomBytes(32).toString('base64');
    await withTimeout(
      this.etcd.if(KEY, 'Create', '==', 0).then(this.etcd.put(KEY).value(fresh)).commit(),
      this.timeoutMs,
      'etcd',
    );
    const stored = await withTimeout(this.etcd.get(KEY).string(), this.timeoutMs, 'etcd');
    if (!stored) throw new Error('join signing key missing after create');
    this.key = Buffer.from(stored, 'base64');
    return this.key;
  }
}
