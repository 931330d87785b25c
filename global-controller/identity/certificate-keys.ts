// The private keys of Certificate resources at rest and in flight.
//
// At rest (etcd): spec.privateKey is replaced by spec.sealedPrivateKey, the
// key sealed with the operator's data key like the root CA's. Through the
// admin API: never returned; the document shows the key as redacted, plus the
// certificate's validity. To zones: opened again for the federation stream,
// which is mTLS; the zone hands it to its edges over the discovery stream. A
// re-apply of the same key keeps the stored seal, so it is not a change.
//
// Before a key leaves, it must open for this very record and belong to the
// certificate. One that does not (a value copied from the root or another
// Certificate straight into etcd, a wrong data key) withholds the Certificate
// from zones altogether rather than sending it without its key: a zone and
// its edges validate every Certificate whole, so a keyless one would be
// refused with the whole snapshot it came in, and there is no key that could
// be served in its place.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { openSealedKey, sealPrivateKey, type DataKey, type SealedKey, type SealContext } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import type { StoredDocument } from '../store/types';

export const REDACTED = '(sealed in the store; never returned)';

type Doc = { kind: string; metadata: { name: string }; spec?: unknown } & Record<string, unknown>;
interface StoredCertificateSpec {
  hosts: string[];
  certificate: string;
  privateKey?: string;
  sealedPrivateKey?: SealedKey;
}

function specOf(doc: { spec?: unknown }): StoredCertificateSpec {
  return doc.spec as StoredCertificateSpec;
}

function certificateSealContext(name: string): SealContext {
  return { purpose: 'certificate-key', record: `Certificate/${name}` };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export class CertificateKeys {
  constructor(
    private readonly dataKey: DataKey,
    private readonly logger?: Logger,
  ) {}

  // For the store: the key sealed; the current record's seal when it holds the same key.
  seal<T extends Doc>(doc: T, current?: StoredDocument): T {
    if (doc.kind !== 'Certificate') return doc;
    const { privateKey, ...rest } = specOf(doc);
    if (privateKey === undefined) return doc;
    const held = current?.kind === 'Certificate' ? specOf(current).sealedPrivateKey : undefined;
    const sealedPrivateKey = held && this.opensTo(held, privateKey, doc.metadata.name) ? held : sealPrivateKey(privateKey, this.dataKey, certificateSealContext(doc.metadata.name));
    return { ...doc, spec: { ...rest, sealedPrivateKey } };
  }

  // For the federation stream: the key in the form the schema takes, or
  // undefined when the Certificate must not go to zones (logged, naming it).
  open<T extends Doc>(doc: T): T | undefined {
    if (doc.kind !== 'Certificate') return doc;
    const { sealedPrivateKey, ...rest } = specOf(doc);
    if (!sealedPrivateKey) return doc;
    const name = doc.metadata.name;
    let privateKey: string;
    try {
      privateKey = openSealedKey(sealedPrivateKey, this.dataKey, certificateSealContext(name));
    } catch (err) {
      return this.withhold(name, `its sealed key does not open for Certificate/${name}: ${(err as Error).message}`);
    }
    const mismatch = keyMismatch(rest.certificate, privateKey);
    if (mismatch) return this.withhold(name, mismatch);
    return { ...doc, spec: { ...rest, privateKey } };
  }

  private withhold(name: string, reason: string): undefined {
    this.logger?.error({ certificate: name, reason }, `Certificate ${name} is not sent to zones: apply it again with its key`);
    return undefined;
  }

  private opensTo(sealed: SealedKey, privateKey: string, name: string): boolean {
    try {
      return openSealedKey(sealed, this.dataKey, certificateSealContext(name)) === privateKey;
    } catch {
      return false;
    }
  }
}

// Why the key does not serve the certificate's first (leaf) certificate, or undefined when it does.
function keyMismatch(chain: string, privateKeyPem: string): string | undefined {
  try {
    const leaf = new X509Certificate(chain.match(PEM_CERTIFICATE)?.[0] ?? '');
    return leaf.checkPrivateKey(createPrivateKey(privateKeyPem)) ? undefined : 'its key does not belong to its certificate';
  } catch (err) {
    return `its certificate or key does not read: ${(err as Error).message}`;
  }
}

// For the admin API: no key, sealed or not; the validity as status.
export function redactCertificate<T extends Doc>(doc: T): T {
  if (doc.kind !== 'Certificate') return doc;
  const { sealedPrivateKey: _sealed, privateKey: _key, ...rest } = specOf(doc);
  let status: Record<string, string> = {};
  try {
    const leaf = new X509Certificate(rest.certificate);
    status = { notBefore: new Date(leaf.validFrom).toISOString(), notAfter: new Date(leaf.validTo).toISOString(), subject: leaf.subject.replace(/\n/g, ', ') };
  } catch {
    // Stored documents were validated on apply; nothing to add if not.
  }
  return { ...doc, spec: { ...rest, privateKey: REDACTED }, status };
}
