// Validation of resource documents: all or nothing. A list is accepted only if
// every document is valid and no kind/name appears twice; otherwise every
// problem is returned, each naming the document index, kind, name and path.
import { describeIssues, humanErrorMap } from './issue-messages';
import { isKindName, KINDS, resolveKind, type KindName } from './kinds';
import { resourceSchemas, type ResourceDocument } from './schemas';

export interface ValidationError {
  // 0-based position of the document in the list given.
  index: number;
  // The document's kind and metadata.name as written, when they are strings.
  kind?: string;
  name?: string;
  // Field path, dots for keys and [i] for indexes ("" for the document itself).
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; documents: ResourceDocument[] } | { ok: false; errors: ValidationError[] };

export type DocumentValidationResult = { ok: true; document: ResourceDocument } | { ok: false; errors: ValidationError[] };

// document 2 (Service/echo): spec.ports[0].port: must be an integer from 1 to 65535
export function formatValidationError(e: ValidationError): string {
  let out = `document ${e.index}`;
  if (e.kind !== undefined || e.name !== undefined) out += ` (${e.kind ?? '?'}/${e.name ?? '?'})`;
  out += ': ';
  if (e.path !== '') out += `${e.path}: `;
  return out + e.message;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

// The kind and name as written, for error messages, even when the document is invalid.
function identify(doc: Record<string, unknown>): { kind?: string; name?: string } {
  const kind = typeof doc.kind === 'string' ? doc.kind : undefined;
  const metadata = doc.metadata;
  const name = isPlainObject(metadata) && typeof metadata.name === 'string' ? metadata.name : undefined;
  return { kind, name };
}

function kindProblem(kind: unknown): string {
  const valid = `valid kinds: ${KINDS.join(', ')}`;
  if (kind === undefined) return `required; ${valid}`;
  if (typeof kind !== 'string') return `must be a string; ${valid}`;
  const meant = resolveKind(kind);
  if (meant !== undefined) return `unknown kind '${kind}' (did you mean '${meant}'?); ${valid}`;
  return `unknown kind '${kind}'; ${valid}`;
}

export function validateDocument(doc: unknown, index = 0): DocumentValidationResult {
  if (!isPlainObject(doc)) {
    return {
      ok: false,
      errors: [
        {
          index,
          path: '',
          message: `must be a resource document (an object with apiVersion, kind, metadata and spec), got ${typeName(doc)}`,
        },
      ],
    };
  }
  const { kind, name } = identify(doc);
  if (!isKindName(doc.kind)) {
    return { ok: false, errors: [{ index, kind, name, path: 'kind', message: kindProblem(doc.kind) }] };
  }
  const schema = resourceSchemas[doc.kind as KindName];
  const parsed = schema.safeParse(doc, { error: humanErrorMap });
  if (parsed.success) return { ok: true, document: parsed.data };
  return {
    ok: false,
    errors: describeIssues(parsed.error.issues).map((issue) => ({ index, kind, name, ...issue })),
  };
}

export function validateDocuments(docs: unknown[]): ValidationResult {
  if (!Array.isArray(docs)) throw new TypeError('validateDocuments expects an array of documents');
  const documents: ResourceDocument[] = [];
  const errors: ValidationError[] = [];
  const firstIndexByKey = new Map<string, number>();

  docs.forEach((doc, index) => {
    const result = validateDocument(doc, index);
    if (result.ok) documents.push(result.document);
    else errors.push(...result.errors);

    // Duplicates are looked for among invalid documents too, so one pass shows every problem.
    if (!isPlainObject(doc) || !isKindName(doc.kind)) return;
    const { kind, name } = identify(doc);
    if (name === undefined) return;
    const key = `${kind}/${name}`;
    const first = firstIndexByKey.get(key);
    if (first === undefined) {
      firstIndexByKey.set(key, index);
    } else {
      errors.push({
        index,
        kind,
        name,
        path: 'metadata.name',
        message: `duplicate of document ${first} (the same kind and name may appear only once)`,
      });
    }
  });

  return errors.length === 0 ? { ok: true, documents } : { ok: false, errors };
}
