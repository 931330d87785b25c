import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dataKeyFromBytes, loadDataKey } from './data-key';
import { assertPkiError } from '../../test-support/pki-fixtures';

describe('data keys', () => {
  let dir: string;
  const write = (name: string, content: Buffer | string, mode = 0o600): string => {
    const file = join(dir, name);
    writeFileSync(file, content);
    chmodSync(file, mode);
    return file;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-data-key-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('load from a private file; a trailing newline does not change the key', () => {
    const text = randomBytes(32).toString('base64');
    const a = loadDataKey(write('a.key', text));
    const b = loadDataKey(write('b.key', `${text}\n`));
    assert.match(a.kid, /^[0-9a-f]{16}$/);
    assert.equal(a.kid, b.kid);
    assert.equal(a.key.symmetricKeySize, 32);
    assert.notEqual(loadDataKey(write('c.key', randomBytes(32))).kid, a.kid);
  });

  it('use raw random bytes whole, even when they end in a newline byte', () => {
    const raw = Buffer.concat([randomBytes(31), Buffer.from([0x80, 0x0a])]);
    const key = loadDataKey(write('raw.key', raw));
    assert.notEqual(key.kid, dataKeyFromBytes(raw.subarray(0, 32), 'x').kid);
    assert.equal(key.kid, dataKeyFromBytes(raw, 'x').kid);
  });

  it('refuse a file that group or others can read, unless told to warn', async () => {
    const file = write('open.key', randomBytes(32), 0o644);
    assertPkiError(() => loadDataKey(file), 'data-key', `data key file ${file} is accessible by group or others (mode 0644); run: chmod 600 ${file}`);
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    assert.match(loadDataKey(file, { insecurePermissions: 'warn' }).kid, /^[0-9a-f]{16}$/);
    assert.match((await warned).message, /accessible by group or others/);
  });

  it('refuse an empty, short, missing or non-file key', () => {
    const empty = write('empty.key', '\n');
    assertPkiError(() => loadDataKey(empty), 'data-key', `data key file ${empty} is empty; it must hold at least 32 random bytes`);
    const short = write('short.key', 'hunter2');
    assertPkiError(() => loadDataKey(short), 'data-key', /holds 7 bytes; it must hold at least 32 random bytes/);
    assertPkiError(() => loadDataKey(join(dir, 'missing.key')), 'data-key', /missing.key does not exist$/);
    assertPkiError(() => loadDataKey(dir), 'data-key', /is not a regular file/);
  });

  it('can come from elsewhere, e.g. an environment variable', () => {
    const text = randomBytes(32).toString('hex');
    assert.equal(dataKeyFromBytes(text, 'MERIDIAN_DATA_KEY').kid, dataKeyFromBytes(Buffer.from(text), 'x').kid);
    assertPkiError(() => dataKeyFromBytes('', 'MERIDIAN_DATA_KEY'), 'data-key', /^MERIDIAN_DATA_KEY is empty/);
  });
});
