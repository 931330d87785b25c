import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readJsonFile, writeFileAtomic, writeJsonFile } from './atomic-file';

const dir = mkdtempSync(join(tmpdir(), 'meridian-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a payload written with writeJsonFile reads back equal', async () => {
  const path = join(dir, 'round-trip.json');
  const payload = { version: 42, resources: [{ kind: 'Service', name: 'echo', labels: { b: '2', a: '1' } }], empty: null };
  await writeJsonFile(path, payload);
  assert.deepEqual(readJsonFile(path), { ok: true, value: payload });

  await writeJsonFile(path, { version: 43 });
  assert.deepEqual(readJsonFile(path), { ok: true, value: { version: 43 } });
});

test('a missing file is reported as missing', () => {
  assert.deepEqual(readJsonFile(join(dir, 'nothing-here.json')), { ok: false, reason: 'missing' });
});

test('a truncated file is reported as corrupt', async () => {
  const path = join(dir, 'truncated.json');
  await writeJsonFile(path, { instances: [{ id: 'echo-1' }, { id: 'echo-2' }] });
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
  const result = readJsonFile(path);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, 'corrupt');
  assert.match(!result.ok && result.reason === 'corrupt' ? result.error : '', /not valid JSON/);
});

test('an edited payload is reported as corrupt by its checksum', async () => {
  const path = join(dir, 'edited.json');
  await writeJsonFile(path, { port: 9001 });
  writeFileSync(path, readFileSync(path, 'utf8').replace('9001', '9002'));
  const result = readJsonFile(path);
  assert.ok(!result.ok && result.reason === 'corrupt');
  assert.match(result.error, /checksum mismatch/);
});

test('key order and whitespace do not change the checksum', async () => {
  const path = join(dir, 'reordered.json');
  await writeJsonFile(path, { a: 1, b: { c: 2, d: 3 } });
  const envelope = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ payload: { b: { d: 3, c: 2 }, a: 1 }, sha256: envelope.sha256, format: 1 }));
  assert.deepEqual(readJsonFile(path), { ok: true, value: { a: 1, b: { c: 2, d: 3 } } });
});

test('a file that is not a state file, or fails validation, is corrupt', async () => {
  const plain = join(dir, 'plain.json');
  writeFileSync(plain, '{"instances": []}');
  const result = readJsonFile(plain);
  assert.ok(!result.ok && result.reason === 'corrupt');
  assert.match(result.error, /unsupported format/);

  const path = join(dir, 'invalid.json');
  await writeJsonFile(path, { instances: 'no' });
  const invalid = readJsonFile(path, (p) => (Array.isArray((p as { instances: unknown }).instances) ? undefined : 'instances must be an array'));
  assert.ok(!invalid.ok && invalid.reason === 'corrupt');
  assert.match(invalid.error, /invalid payload: instances must be an array/);
});

test('writeFileAtomic replaces the target and leaves no temporary file', async () => {
  const sub = mkdtempSync(join(dir, 'atomic-'));
  const path = join(sub, 'target.txt');
  await writeFileAtomic(path, 'first');
  await Promise.all([writeFileAtomic(path, 'second'), writeFileAtomic(path, 'third')]);
  assert.ok(['second', 'third'].includes(readFileSync(path, 'utf8')));
  assert.deepEqual(readdirSync(sub), ['target.txt']);
});

test('writeFileAtomic fails cleanly when the directory does not exist', async () => {
  await assert.rejects(writeFileAtomic(join(dir, 'no-such-dir', 'x.json'), 'x'), { code: 'ENOENT' });
});
