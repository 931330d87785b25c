// Golden files: a test renders what goes on the wire as text and compares it
// with a checked-in file, so a change to the wire shows as a diff in review.
// UPDATE_GOLDEN=1 rewrites the files instead of comparing.
//
// The files live in the source tree (tsc copies no .json), found from the
// compiled test's folder by dropping dist/ from its path.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './repo-root';

// The source folder of a test's testdata/golden, given the test's __dirname.
export function goldenDir(testDir: string): string {
  const root = repoRoot();
  const rel = path.relative(root, testDir).split(path.sep);
  if (rel[0] === 'dist') rel.shift();
  return path.join(root, ...rel, 'testdata', 'golden');
}

// A message as readable, stable text: keys sorted; bytes that hold JSON (a
// resource's document) shown parsed, other bytes as base64, none as "".
export function goldenText(value: unknown): string {
  return `${JSON.stringify(normalise(value), null, 2)}\n`;
}

function normalise(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    const bytes = Buffer.from(value);
    if (bytes.length === 0) return '';
    try {
      return { json: normalise(JSON.parse(bytes.toString('utf8'))) };
    } catch {
      return { base64: bytes.toString('base64') };
    }
  }
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = normalise((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

// Compares `actual` with the golden file `name` in `dir` (or writes it under UPDATE_GOLDEN=1).
export function assertGolden(dir: string, name: string, actual: string): void {
  const file = path.join(dir, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) assert.fail(`no golden file ${path.relative(repoRoot(), file)}: run the test with UPDATE_GOLDEN=1 to write it`);
  assert.equal(actual, fs.readFileSync(file, 'utf8'), `${path.relative(repoRoot(), file)} differs from what goes on the wire (UPDATE_GOLDEN=1 rewrites it)`);
}
