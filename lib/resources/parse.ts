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

// Bounds on what one text may hold, so that a hostile text (a million empty
// documents, an array of a million items) is refused while it is read
// instead of after it is built.
export interface ParseLimits {
  // YAML documents in the stream, empty ones included (JSON is one).
  maxDocuments?: number;
  // Values returned: documents, and the items of arrays and Lists.
  maxResources?: number;
}

// Over a ParseLimits bound; `limit` names which.
export class DocumentLimitError extends Error {
  constructor(
    readonly limit: 'maxDocuments' | 'maxResources',
    readonly max: number,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentLimitError';
  }
}

function collect(out: unknown[], value: unknown, source: string, limits: ParseLimits): void {
  const items = unwrapList(value);
  const max = limits.maxResources ?? Infinity;
  if (out.length + items.length > max) {
    throw new DocumentLimitError('maxResources', max, `${source}: more than ${max} resources (documents and list items); the limit is ${max}`);
  }
  for (const item of items) out.push(item);
}

function parseYaml(text: string, source: string, limits: ParseLimits): unknown[] {
  const { Composer, LineCounter, Parser } = yaml();
  const lineCounter = new LineCounter();
  // parseAllDocuments' own steps, as a stream: a text over the document limit
  // stops at the limit, before the rest of it is lexed or composed.
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ prettyErrors: false });
  const maxDocuments = limits.maxDocuments ?? Infinity;
  const out: unknown[] = [];
  let index = 0;
  for (const doc of composer.compose(parser.parse(text))) {
    // The index counts every YAML document in the stream, empty ones too, so it
    // matches what the author sees; the line and column pin the place.
    if (index >= maxDocuments) {
      throw new DocumentLimitError('maxDocuments', maxDocuments, `${source}: more than ${maxDocuments} YAML documents (empty ones count); the limit is ${maxDocuments}`);
    }
    const error = doc.errors[0];
    if (error) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      throw new Error(`${source}: syntax error in document ${index} at line ${line}, column ${col}: ${error.message}`);
    }
    // A document with nothing but comments, or an explicit null, is skipped.
    if (doc.contents !== null) {
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        throw new Error(`${source}: document ${index}: ${(err as Error).message}`);
      }
      if (value !== null && value !== undefined) collect(out, value, source, limits);
    }
    index++;
  }
  return out;
}

// `source` names where the text came from (a file name, "<stdin>") in error
// messages. Over a limit: DocumentLimitError.
export function parseDocuments(text: string, source = '<input>', limits: ParseLimits = {}): unknown[] {
  const body = text.replace(/^\uFEFF/, '');
  const start = body.trimStart()[0];
  if (start === '{' || start === '[') {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      // Not strict JSON; JSON-like YAML (a trailing comma, comments) still
      // parses below, and a real syntax error gets a line and column there.
      return parseYaml(body, source, limits);
    }
    const out: unknown[] = [];
    collect(out, value, source, limits);
    return out;
  }
  return parseYaml(body, source, limits);
}

// Multi-document YAML, `---` between documents, no anchors, no line folding.
export function toYaml(docs: unknown[]): string {
  const { stringify } = yaml();
  return docs.map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
