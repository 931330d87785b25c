// Where the registry keeps its instances across restarts: a snapshot (the
// whole list, written atomically with a checksum) and a journal next to it
// (`<file>.journal`) of the changes made since, one checksummed line each. A
// change costs one short append and an fsync, not a rewrite of every
// instance; the journal is folded into a new snapshot once it holds as many
// entries as the snapshot has instances, and on the first save after a start.
//
// A torn last line (a crash during an append) is dropped quietly; a bad line
// before the end means the file was edited: the changes from there on are
// lost, and said so.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from '../../lib/observability/logger';
import { readJsonFile, writeFileAtomic, writeJsonFile, type PayloadValidator } from '../state/atomic-file';

export interface StoredInstance {
  id: string;
  service: string;
  address: string;
  port: number;
  weight: number;
  labels: Record<string, string>;
  // The instance's other ports by port name; absent when it names none.
  ports?: Record<string, number>;
  // The instance token that registered it.
  tokenId?: string;
}

export type JournalEntry = { put: StoredInstance } | { del: string };

// Never fold a journal shorter than this: small registries would rewrite on every change.
const MIN_JOURNAL_ENTRIES = 1024;

export class InstanceFile {
  readonly journalPath: string;
  private journalEntries = 0;
  private snapshotSize = 0;
  // The first save writes a snapshot: it replaces whatever was on disk.
  private compactNext = true;

  constructor(readonly path: string, private readonly logger?: Logger) {
    this.journalPath = `${path}.journal`;
  }

  // The instances on disk, or why there are none.
  load(validate: PayloadValidator): { instances: StoredInstance[]; problem?: string } {
    const snapshot = readJsonFile<{ instances: StoredInstance[] }>(this.path, validate);
    if (!snapshot.ok) return { instances: [], problem: snapshot.reason === 'corrupt' ? snapshot.error : undefined };
    const byId = new Map(snapshot.value.instances.map((i) => [i.id, i]));
    let text = '';
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const [n, line] of lines.entries()) {
      const entry = parseLine(line);
      if (!entry) {
        if (n < lines.length - 1) this.logger?.error({ file: this.journalPath, line: n + 1 }, 'instance journal damaged; the changes from this line on are lost');
        break;
      }
      if ('put' in entry) byId.set(entry.put.id, entry.put);
      else byId.delete(entry.del);
    }
    return { instances: [...byId.values()] };
  }

  // Persists the entries (appended) or everything (`all`, as a new snapshot).
  async save(entries: JournalEntry[], all: () => StoredInstance[]): Promise<void> {
    if (this.compactNext || this.journalEntries + entries.length > Math.max(MIN_JOURNAL_ENTRIES, this.snapshotSize)) {
      // Until a snapshot lands, every save tries one (the journal may have lost entries).
      this.compactNext = true;
      const instances = all();
      await writeJsonFile(this.path, { instances });
      await writeFileAtomic(this.journalPath, '');
      this.snapshotSize = instances.length;
      this.journalEntries = 0;
      this.compactNext = false;
      return;
    }
    const text = entries.map(formatLine).join('');
    const file = await open(this.journalPath, 'a', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } catch (err) {
      this.compactNext = true;
      throw err;
    } finally {
      await file.close();
    }
    this.journalEntries += entries.length;
  }
}

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

function formatLine(entry: JournalEntry): string {
  const json = JSON.stringify(entry);
  return `${checksum(json)} ${json}\n`;
}

function parseLine(line: string): JournalEntry | undefined {
  const space = line.indexOf(' ');
  const json = line.slice(space + 1);
  if (space !== 16 || checksum(json) !== line.slice(0, space)) return undefined;
  try {
    const entry = JSON.parse(json) as JournalEntry;
    if ('put' in entry && typeof entry.put?.id === 'string') return entry;
    if ('del' in entry && typeof entry.del === 'string') return entry;
  } catch {
    // not JSON
  }
  return undefined;
}
