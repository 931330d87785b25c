// The private keys of Certificate resources at rest and in flight.
//
// At rest (etcd): spec.privateKey is replaced by spec.sealedPrivateKey, the
// key sealed with the operator's data key like the root CA's. Through the
// admin API: never returned; the document shows the key as redacted, plus the
// certificate's validity. To zones: opened again for the federation stream,
// which is mTLS; the zone hands it to its edges over the discovery stream. A
// re-apply of the same key keeps the stored seal, so it is not a change.
import { X509Certificate } from 'node:crypto';
import { openSealedKey, sealPrivateKey, type DataKey, type SealedKey, type SealContext } from '../../lib/pki';
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

export class CertificateKeys {
  constructor(private readonly dataKey: DataKey) {}

  // For the store: the key sealed; the current record's seal when it holds the same key.
  seal<T extends Doc>(doc: T, current?: StoredDocument): T {
    if (doc.kind !== 'Certificate') return doc;
    const { privateKey, ...rest } = specOf(doc);
    if (privateKey === undefined) return doc;
    const held = current?.kind === 'Certificate' ? specOf(current).sealedPrivateKey : undefined;
    const sealedPrivateKey = held && this.opensTo(held, privateKey, doc.metadata.name) ? held : sealPrivateKey(privateKey, this.dataKey, certificateSealContext(doc.metadata.name));
    return { ...doc, spec: { ...rest, sealedPrivateKey } };
  }

  // For the federation stream: the key in the form the schema takes.
  open<T extends Doc>(doc: T): T {
    if (doc.kind !== 'Certificate') return doc;
    const { sealedPrivateKey, ...rest } = specOf(doc);
    if (!sealedPrivateKey) return doc;
    return { ...doc, spec: { ...rest, privateKey: openSealedKey(sealedPrivateKey, this.dataKey, certificateSealContext(doc.metadata.name)) } };
  }

  private opensTo(sealed: SealedKey, privateKey: string, name: string): boolean {
    try {
      return openSealedKey(sealed, this.dataKey, certificateSealContext(name)) === privateKey;
    } catch {
      return false;
    }
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
