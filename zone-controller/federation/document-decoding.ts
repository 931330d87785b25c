// Turns the documents of a federation message (JSON text) into validated
// resource documents, all or nothing: any problem refuses the batch, naming
// every problem lib/resources finds. Runs inline for small batches and in a
// worker thread for large ones (./document-validator.ts).
import { formatValidationError, validateDocument, validateDocuments, type ResourceDocument } from '../../lib/resources';

export type TextsResult = { ok: true; documents: ResourceDocument[] } | { ok: false; problem: string };

export interface DecodeRequest {
  id: number;
  texts: string[];
}

// From the worker: `normalized` lists the documents whose validated form
// differs from their text (defaults filled in, status dropped), as JSON; the
// others are exactly their text, which the zone parses itself meanwhile.
export type DecodeReply = { id: number } & ({ ok: true; normalized: [index: number, json: string][] } | { ok: false });

export function validateTexts(texts: string[]): TextsResult {
  const parsed = parseTexts(texts);
  if (!parsed.ok) return parsed;
  const result = validateDocuments(parsed.docs);
  if (!result.ok) return { ok: false, problem: result.errors.map(formatValidationError).join('; ') };
  return { ok: true, documents: result.documents };
}

// The worker's pass: one document at a time, nothing kept but what differs
// from its text, so the heap stays small (holding thousands of parsed and
// validated documents made every young-generation collection copy them).
// Any problem, a duplicate across the batch included, is left to the
// inline pass, which names every problem of the whole batch.
export function normalizedOrRefused(texts: string[]): { ok: true; normalized: [number, string][] } | { ok: false } {
  const normalized: [number, string][] = [];
  for (let i = 0; i < texts.length; i++) {
    let doc: unknown;
    try {
      doc = JSON.parse(texts[i]!);
    } catch {
      return { ok: false };
    }
    const result = validateDocument(doc, i);
    if (!result.ok) return { ok: false };
    const json = JSON.stringify(result.document);
    if (json !== texts[i]) normalized.push([i, json]);
  }
  return { ok: true, normalized };
}

export function parseTexts(texts: string[]): { ok: true; docs: unknown[] } | { ok: false; problem: string } {
  try {
    return { ok: true, docs: texts.map((t) => JSON.parse(t)) };
  } catch (err) {
    return { ok: false, problem: `a document is not JSON: ${(err as Error).message}` };
  }
}
