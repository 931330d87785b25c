// Helpers for the resource tests: build a document, then assert that it is
// accepted (returning the normalized document) or refused at a given path.
import assert from 'node:assert/strict';
import { validateDocuments, type ValidationError } from './validate';
import type { KindName } from './kinds';
import type { ResourceDocument, ResourceOfKind } from './schemas';

export interface TestDocument<K extends string> {
  apiVersion: string;
  kind: K;
  metadata: { name: string };
  spec: unknown;
  [field: string]: unknown;
}

export function resource<K extends string>(kind: K, spec: unknown, name = 'test'): TestDocument<K> {
  return { apiVersion: 'meridian.dev/v1', kind, metadata: { name }, spec };
}

// Typed by the document's kind, so a test can read the normalized spec.
type Accepted<D> = D extends { kind: infer K extends KindName } ? ResourceOfKind<K> : ResourceDocument;

export function accept<D>(doc: D): Accepted<D> {
  const result = validateDocuments([doc]);
  if (!result.ok) assert.fail(`expected the document to be accepted, got: ${JSON.stringify(result.errors, null, 2)}`);
  return result.documents[0] as Accepted<D>;
}

export function refuse(doc: unknown): ValidationError[] {
  const result = validateDocuments([doc]);
  if (result.ok) assert.fail(`expected the document to be refused: ${JSON.stringify(doc)}`);
  return result.errors;
}

// Asserts that the document is refused with (at least) this error; a string
// message must match exactly, a RegExp must match.
export function assertRefused(doc: unknown, path: string, message: string | RegExp): ValidationError {
  const errors = refuse(doc);
  const found = errors.find(
    (e) => e.path === path && (typeof message === 'string' ? e.message === message : message.test(e.message)),
  );
  if (!found) {
    assert.fail(`expected an error at ${JSON.stringify(path)} matching ${String(message)}, got: ${JSON.stringify(errors, null, 2)}`);
  }
  return found;
}
