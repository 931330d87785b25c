// Reading and writing resource documents as text. Input is multi-document
// YAML or JSON (one document, an array of them, or a List with `items`, as the
// admin API returns); output is multi-document YAML. Parsing only turns text
// into values: whether they are valid resources is validate.ts's business.
import type * as Yaml from 'yaml';

// Loaded on first use: the zone controller and the edge never parse YAML,
// and loading it costs them ~50 ms of start-up.
let yamlModule: typeof Yaml | undefined;
const yaml = (): typeof Yaml => (yamlModule ??= require('yaml') as typeof Yaml);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// An array or a List stands for its items; anything else is one document.
function unwrapList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value) && value.kind === 'List' && Array.isArray(value.items)) return value.items;
  return [value];
}

function parseYaml(text: string, source: string): unknown[] {
  const { LineCounter, parseAllDocuments } = yaml();
  const lineCounter = new LineCounter();
  const stream = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const out: unknown[] = [];
  stream.forEach((doc, index) => {
    // The index counts every YAML document in the stream, empty ones too, so it
    // matches what the author sees; the line and column pin the place.
    const error = doc.errors[0];
    if (error) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      throw new Error(`${source}: syntax error in document ${index} at line ${line}, column ${col}: ${error.message}`);
    }
    // A document with nothing but comments, or an explicit null, is skipped.
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new Error(`${source}: document ${index}: ${(err as Error).message}`);
    }
    if (value === null || value === undefined) return;
    out.push(...unwrapList(value));
  });
  return out;
}

// `source` names where the text came from (a file name, "<stdin>") in error messages.
export function parseDocuments(text: string, source = '<input>'): unknown[] {
  const body = text.replace(/^\uFEFF/, '');
  const start = body.trimStart()[0];
  if (start === '{' || start === '[') {
    try {
      return unwrapList(JSON.parse(body));
    } catch {
      // Not strict JSON; JSON-like YAML (a trailing comma, comments) still
      // parses below, and a real syntax error gets a line and column there.
    }
  }
  return parseYaml(body, source);
}

// Multi-document YAML, `---` between documents, no anchors, no line folding.
export function toYaml(docs: unknown[]): string {
  const { stringify } = yaml();
  return docs.map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
