// The Ed25519 key that signs instance tokens. Created once per mesh by
// whichever replica gets there first (a create-if-absent transaction) and
// shared by all replicas through etcd; its private key is stored sealed with
// the data key (purpose and record `instance-token-signing-key`), its public
// key in the clear: zones get it to check tokens on their own.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import type { DataKey } from '../../lib/pki/data-key';
import { openSecret, sealSecret, type SealContext, type SealedKey } from '../../lib/pki/sealed-key';
import { withTimeout } from '../../lib/util/with-timeout';

const KEY = '/meridian/system/instance-token-signing-key';
const SEAL: SealContext = { purpose: 'instance-token-signing-key', record: 'instance-token-signing-key' };

interface StoredSigningKey {
  publicKey: string; // PEM SPKI
  sealedPrivateKey: SealedKey;
}

export interface InstanceTokenSigner {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export class InstanceTokenSigningKey {
  private signer: InstanceTokenSigner | undefined;
  private loading: Promise<InstanceTokenSigner> | undefined;

  constructor(private readonly etcd: Etcd3, private readonly dataKey: DataKey, private readonly timeoutMs = 2000) {}

  // Resolves the key, loading or creating it on first use. Rejects while etcd
  // is unreachable and tries again on the next call.
  get(): Promise<InstanceTokenSigner> {
    if (this.signer) return Promise.resolve(this.signer);
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<InstanceTokenSigner> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const fresh: StoredSigningKey = {
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      sealedPrivateKey: sealSecret(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), this.dataKey, SEAL),
    };
    await withTimeout(this.etcd.if(KEY, 'Create', '==', 0).then(this.etcd.put(KEY).value(JSON.stringify(fresh))).commit(), this.timeoutMs, 'etcd');
    const text = await withTimeout(this.etcd.get(KEY).string(), this.timeoutMs, 'etcd');
    if (!text) throw new Error('instance token signing key missing after create');
    const stored = JSON.parse(text) as StoredSigningKey;
    const key = createPrivateKey(openSecret(stored.sealedPrivateKey, this.dataKey, SEAL));
    // The public key a zone trusts must be the private key's own.
    const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    if (publicKeyPem !== stored.publicKey) throw new Error('the stored instance token public key does not match its sealed private key');
    this.signer = { privateKey: key, publicKeyPem };
    return this.signer;
  }
}
