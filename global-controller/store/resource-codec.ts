// How resources are laid out in etcd: key "<prefix><Kind>/<name>", value the
// JSON of the document without metadata.resourceVersion (that is the key's mod
// revision, added back on every read). Keys here are relative to the prefix.
import type { IEvent, IKeyValue } from 'etcd3';
import type { ChangeEvent, StoredDocument, StoredResource } from './types';

export const DEFAULT_PREFIX = '/meridian/resources/';

export function resourceKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

// Kinds never hold '/', names may: split at the first one.
export function parseResourceKey(key: string): { kind: string; name: string } | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) return undefined;
  return { kind: key.slice(0, slash), name: key.slice(slash + 1) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Object keys sorted, so the same document encodes to the same bytes whatever
// order its fields came in (this is how "unchanged" is decided).
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

export function withoutResourceVersion(doc: StoredDocument): StoredDocument {
  const { resourceVersion: _dropped, ...metadata } = doc.metadata;
  return { ...doc, metadata: metadata as StoredDocument['metadata'] };
}

export function encodeDocument(doc: StoredDocument): string {
  return canonicalJson(withoutResourceVersion(doc));
}

// The document in a stored value, with resourceVersion set; undefined when the
// value is not a document (written by something other than this store).
export function decodeDocument(value: Buffer | string, modRevision: number): StoredDocument | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed) || !isPlainObject(parsed.metadata)) return undefined;
  const doc = parsed as StoredDocument;
  doc.metadata.resourceVersion = String(modRevision);
  return doc;
}

// For a key value whose key is relative to the prefix (listings).
export function decodeKeyValue(kv: IKeyValue): StoredResource | undefined {
  const id = parseResourceKey(kv.key.toString());
  return id && decodeResource(id.kind, id.name, kv);
}

// For a key value read by its known key (etcd3 leaves single reads and
// transaction results prefixed).
export function decodeResource(kind: string, name: string, kv: IKeyValue): StoredResource | undefined {
  const modRevision = Number(kv.mod_revision);
  const document = decodeDocument(kv.value, modRevision);
  if (!document) return undefined;
  return { kind, name, document, modRevision, createRevision: Number(kv.create_revision) };
}

// A watch event as a change. A put whose value is not a document reads as a
// delete: the store cannot serve it, so listeners must not keep an old copy.
// undefined only for keys outside the <Kind>/<name> layout.
export function changeFromEvent(event: IEvent): ChangeEvent | undefined {
  const id = parseResourceKey(event.kv.key.toString());
  if (!id) return undefined;
  const modRevision = Number(event.kv.mod_revision);
  if (event.type === 'Put') {
    const document = decodeDocument(event.kv.value, modRevision);
    if (document) return { op: 'put', kind: id.kind, name: id.name, document, modRevision };
  }
  return { op: 'delete', kind: id.kind, name: id.name, modRevision };
}

export function compareResources(a: { kind: string; name: string }, b: { kind: string; name: string }): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}
