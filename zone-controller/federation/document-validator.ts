// Validates the documents of federation messages, all or nothing, on the
// zone's own thread. With zod v4 a snapshot of 10,000 services is 150-400 ms
// of validation; worker threads make it slower on two cores (0.5-0.7 s even
// when warm: cloning the texts, each worker loading zod, and competing for
// the CPU with the decoding of the regions view that follows the snapshot).
// A large batch is validated in slices of SLICE documents with a turn of the
// event loop between them, so keepalives, discovery and the regions view are
// served meanwhile. A batch that is refused is validated again in one pass,
// so the reason names every problem exactly as lib/resources does.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { formatValidationError, validateDocument, validateDocuments, type ResourceDocument } from '../../lib/resources';

export type TextsResult = { ok: true; documents: ResourceDocument[] } | { ok: false; problem: string };

const SLICE = 500;

export async function validateInSlices(texts: string[], slice = SLICE): Promise<TextsResult> {
  if (texts.length <= slice) return validateTexts(texts);
  const documents: ResourceDocument[] = new Array(texts.length);
  for (let start = 0; start < texts.length; start += slice) {
    if (start > 0) await nextTurn();
    const end = Math.min(start + slice, texts.length);
    for (let i = start; i < end; i++) {
      let doc: unknown;
      try {
        doc = JSON.parse(texts[i]!);
      } catch {
        return validateTexts(texts);
      }
      const result = validateDocument(doc, i);
      if (!result.ok) return validateTexts(texts);
      documents[i] = result.document;
    }
  }
  return hasDuplicates(documents) ? validateTexts(texts) : { ok: true, documents };
}

// Whether a kind/name appears twice across the batch (the pass above looks at one document at a time).
function hasDuplicates(docs: ResourceDocument[]): boolean {
  const seen = new Set<string>();
  for (const doc of docs) {
    const key = `${doc.kind}/${doc.metadata.name}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

// One pass over the whole batch: the reason names every problem lib/resources finds.
export function validateTexts(texts: string[]): TextsResult {
  let docs: unknown[];
  try {
    docs = texts.map((t) => JSON.parse(t));
  } catch (err) {
    return { ok: false, problem: `a document is not JSON: ${(err as Error).message}` };
  }
  const result = validateDocuments(docs);
  if (!result.ok) return { ok: false, problem: result.errors.map(formatValidationError).join('; ') };
  return { ok: true, documents: result.documents };
}
