// Crash-safe state files for the zone controller (its last global snapshot,
// its registered instances). A write either lands whole or not at all; a read
// tells a missing file from a damaged one, so the caller can start empty on
// the first and alert on the second.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Format 2: the sha256 of the payload's JSON text as written. Format 1 (still
// read): the sha256 of its canonical JSON (keys sorted), which costs seconds
// to compute for a state of 10,000 services.
const FORMAT = 2;

export type ReadJsonResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'corrupt'; error: string };

// Returns a description of what is wrong with the payload, or undefined if it is fine.
export type PayloadValidator = (payload: unknown) => string | undefined;

// Writes data to a temporary file next to the target, fsyncs it, renames it
// over the target and fsyncs the directory so the rename itself survives a
// power loss. Readers see the old content or the new, never a mix.
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dir);
}

// Wraps the payload with the sha256 of its JSON text and writes it atomically.
// The payload is serialized once: the envelope is put around its text.
export async function writeJsonFile(path: string, payload: unknown): Promise<void> {
  if (payload === undefined) throw new TypeError('writeJsonFile: payload must not be undefined');
  const text = JSON.stringify(payload);
  await writeFileAtomic(path, `{"format":${FORMAT},"sha256":"${sha256Hex(text)}","payload":${text}}\n`);
}

// Synchronous on purpose: state files are read once at start, before serving,
// and a constructor can then load its state directly. I/O errors other than a
// missing file (permissions, a directory in the way) are thrown: the operator
// must fix them, they are not damage to recover from.
export function readJsonFile<T>(path: string, validate?: PayloadValidator): ReadJsonResult<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'missing' };
    throw err;
  }
  const corrupt = (error: string): ReadJsonResult<T> => ({ ok: false, reason: 'corrupt', error: `${path}: ${error}` });

  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch (err) {
    return corrupt(`not valid JSON (truncated or edited?): ${(err as Error).message}`);
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return corrupt('not a state file (expected an object with format, sha256 and payload)');
  }
  const { format, sha256, payload } = envelope as Record<string, unknown>;
  if (format !== 1 && format !== FORMAT) return corrupt(`unsupported format ${JSON.stringify(format)} (expected 1 or ${FORMAT})`);
  if (typeof sha256 !== 'string') return corrupt('sha256 is missing');
  if (payload === undefined) return corrupt('payload is missing');
  // Parsing keeps key order, so the text written comes back from the value.
  const actual = sha256Hex(format === 1 ? canonicalJson(payload) : JSON.stringify(payload));
  if (actual !== sha256) return corrupt(`checksum mismatch: the payload was changed after it was written (stored sha256 ${sha256}, computed ${actual})`);
  if (validate) {
    const problem = validate(payload);
    if (problem !== undefined) return corrupt(`invalid payload: ${problem}`);
  }
  return { ok: true, value: payload as T };
}

// JSON with object keys sorted at every level, so the checksum does not depend
// on key order or whitespace.
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some platforms cannot open or fsync a directory; the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw err;
  } finally {
    await handle?.close();
  }
}
