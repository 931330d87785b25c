// The key that signs zone join tokens. Created once per mesh by whichever
// replica gets there first (a create-if-absent transaction) and shared by all
// replicas through etcd, so any replica can verify any token. Stored sealed
// with the data key (purpose and record `join-signing-key`): whoever reads
// etcd cannot mint join tokens. A key stored in the clear by an older version
// is sealed in place on first load (a compare-and-swap on the clear value).
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { openSecret, sealSecret, type DataKey, type SealContext } from '../../lib/pki';
import { withTimeout } from '../../lib/util/with-timeout';

export const JOIN_SIGNING_KEY = '/meridian/system/join-signing-key';
const CONTEXT: SealContext = { purpose: 'join-signing-key', record: 'join-signing-key' };
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

// A stored value that this data key does not open: trying again will not help.
export class JoinSigningKeyError extends Error {}

export class JoinSigningKey {
  private key: Buffer | undefined;
  private loading: Promise<Buffer> | undefined;

  constructor(
    private readonly etcd: Etcd3,
    private readonly dataKey: DataKey,
    private readonly timeoutMs = 2000,
  ) {}

  // Resolves the key, loading or creating it on first use. Rejects while etcd
  // is unreachable (and tries again on the next call), and with a
  // JoinSigningKeyError naming why when the stored value does not open.
  get(): Promise<Buffer> {
    if (this.key) return Promise.resolve(this.key);
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<Buffer> {
    const fresh = JSON.stringify(sealSecret(randomBytes(32).toString('base64'), this.dataKey, CONTEXT));
    await withTimeout(this.etcd.if(JOIN_SIGNING_KEY, 'Create', '==', 0).then(this.etcd.put(JOIN_SIGNING_KEY).value(fresh)).commit(), this.timeoutMs, 'etcd');
    const stored = await withTimeout(this.etcd.get(JOIN_SIGNING_KEY).string(), this.timeoutMs, 'etcd');
    if (!stored) throw new Error('join signing key missing after create');
    if (BASE64_KEY.test(stored)) {
      await this.sealInPlace(stored);
      return (this.key = Buffer.from(stored, 'base64'));
    }
    let text: string;
    try {
      text = openSecret(stored, this.dataKey, CONTEXT);
    } catch (err) {
      throw new JoinSigningKeyError(
        `the join signing key stored at ${JOIN_SIGNING_KEY} does not open with this data key (${(err as Error).message}); ` +
          'start with the data key the mesh was created with, or delete the key to make a new one (every join token not yet used then fails)',
      );
    }
    if (!BASE64_KEY.test(text)) throw new JoinSigningKeyError(`the join signing key stored at ${JOIN_SIGNING_KEY} opens but is not a 32-byte base64 key`);
    return (this.key = Buffer.from(text, 'base64'));
  }

  // Only if the value is still the clear one: another replica may have sealed it first.
  private async sealInPlace(clear: string): Promise<void> {
    const sealed = JSON.stringify(sealSecret(clear, this.dataKey, CONTEXT));
    await withTimeout(this.etcd.if(JOIN_SIGNING_KEY, 'Value', '==', clear).then(this.etcd.put(JOIN_SIGNING_KEY).value(sealed)).commit(), this.timeoutMs, 'etcd');
  }
}
