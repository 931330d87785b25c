// Turns `apply -f` arguments (files, directories, `-` for stdin) into one list
// of documents, remembering where each came from so that a server error about
// "document 5" can name the file the user has to open.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { parseDocuments } from '../lib/resources';
import { CliError, UsageError } from './errors';

export const STDIN_SOURCE = '<stdin>';
const DOCUMENT_FILE = /\.(ya?ml|json)$/i;

export interface DocumentOrigin {
  source: string;
  // 0-based position within its source, for files holding several documents.
  indexInSource: number;
  countInSource: number;
}

export interface LoadedDocuments {
  documents: unknown[];
  origins: DocumentOrigin[];
}

export async function loadDocuments(
  args: string[],
  readStdin: () => Promise<string> = readAllStdin,
): Promise<LoadedDocuments> {
  if (args.filter((a) => a === '-').length > 1) throw new UsageError('-f - (stdin) can be given only once', 'apply');
  const documents: unknown[] = [];
  const origins: DocumentOrigin[] = [];
  for (const arg of args) {
    for (const source of expand(arg)) {
      const text = source === STDIN_SOURCE ? await readStdin() : readFile(source);
      const parsed = parse(text, source);
      parsed.forEach((doc, i) => {
        documents.push(doc);
        origins.push({ source, indexInSource: i, countInSource: parsed.length });
      });
    }
  }
  if (documents.length === 0) {
    throw new CliError(`no documents found in ${args.map((a) => (a === '-' ? STDIN_SOURCE : a)).join(', ')}`);
  }
  return { documents, origins };
}

// A directory stands for the document files directly in it, sorted by name so
// that the order (and so the document indexes) is the same on every machine.
function expand(arg: string): string[] {
  if (arg === '-') return [STDIN_SOURCE];
  let stat: fs.Stats;
  try {
    stat = fs.statSync(arg);
  } catch (err) {
    throw new CliError(`cannot read ${arg}: ${fsReason(err)}`);
  }
  if (!stat.isDirectory()) return [arg];
  let names: string[];
  try {
    names = fs.readdirSync(arg);
  } catch (err) {
    throw new CliError(`cannot read ${arg}: ${fsReason(err)}`);
  }
  const files = names
    .filter((n) => DOCUMENT_FILE.test(n))
    .sort()
    .map((n) => path.join(arg, n))
    .filter((p) => isFile(p));
  if (files.length === 0) throw new CliError(`no .yaml, .yml or .json files in ${arg}`);
  return files;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${fsReason(err)}`);
  }
}

function parse(text: string, source: string): unknown[] {
  try {
    return parseDocuments(text, source);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Keep the parser's wording; only add the file if it did not say it.
    const line = message.split('\n')[0];
    throw new CliError(line.includes(source) ? line : `${source}: ${line}`);
  }
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many symbolic links',
};

function fsReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code && FS_REASONS[code]) return FS_REASONS[code];
  return err instanceof Error ? err.message : String(err);
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
