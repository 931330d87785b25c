// The shapes the store hands out. The store is kind-agnostic: a document is
// anything with apiVersion, kind and metadata.name; the API layer validates.

export interface StoredDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: unknown };
  spec?: unknown;
  [k: string]: unknown;
}

export interface StoredResource {
  kind: string;
  name: string;
  // metadata.resourceVersion is the key's mod revision, as a string.
  document: StoredDocument;
  modRevision: number;
  createRevision: number;
}

export interface ChangeEvent {
  op: 'put' | 'delete';
  kind: string;
  name: string;
  // Present for puts.
  document?: StoredDocument;
  modRevision: number;
}

export interface ChangeBatch {
  // Highest modRevision in the batch: every change up to it has been delivered.
  revision: number;
  changes: ChangeEvent[];
}

export type ApplyAction = 'created' | 'updated' | 'unchanged';

export interface ApplyResult {
  revision: number;
  results: { kind: string; name: string; action: ApplyAction }[];
}
