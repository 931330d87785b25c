import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { FileApplier } from './apply-files';

describe('FileApplier', () => {
  let root = '';
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-apply-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('creates, leaves alone, then replaces a file, with its mode', () => {
    const files = new FileApplier(root, false);
    const step = { kind: 'file' as const, path: '/etc/x/a.conf', mode: 0o640, content: 'one\n' };
    assert.deepEqual(files.applyFile(step), { status: 'created' });
    assert.equal(fs.statSync(path.join(root, 'etc/x/a.conf')).mode & 0o777, 0o640);
    const ino = fs.statSync(path.join(root, 'etc/x/a.conf')).ino;
    assert.deepEqual(new FileApplier(root, false).applyFile(step), { status: 'unchanged', note: undefined });
    assert.equal(fs.statSync(path.join(root, 'etc/x/a.conf')).ino, ino);
    assert.deepEqual(new FileApplier(root, false).applyFile({ ...step, content: 'two\n' }), { status: 'changed' });
    assert.equal(fs.readFileSync(path.join(root, 'etc/x/a.conf'), 'utf8'), 'two\n');
    assert.deepEqual(fs.readdirSync(path.join(root, 'etc/x')), ['a.conf']);
  });

  it('keeps an existing file that is only seeded, and hands its content to later steps', () => {
    fs.mkdirSync(path.join(root, 'k'));
    fs.writeFileSync(path.join(root, 'k/seed'), 'kept\n', { mode: 0o600 });
    const files = new FileApplier(root, false);
    assert.equal(files.applyFile({ kind: 'file', path: '/k/seed', mode: 0o600, content: 'new\n', keepExisting: true }).status, 'unchanged');
    const derived = files.applyFile({ kind: 'file', path: '/k/derived', mode: 0o644, content: (effective) => effective('/k/seed')!.toUpperCase() });
    assert.equal(derived.status, 'created');
    assert.equal(fs.readFileSync(path.join(root, 'k/derived'), 'utf8'), 'KEPT\n');
  });

  it('keeps an existing file only while keepIf says it still fits, and replaces it otherwise', () => {
    fs.mkdirSync(path.join(root, 't'));
    fs.writeFileSync(path.join(root, 't/token'), 'token for root-a\n', { mode: 0o600 });
    const step = (rootName: string) => ({
      kind: 'file' as const,
      path: '/t/token',
      mode: 0o600,
      content: `new token for ${rootName}\n`,
      keepExisting: true,
      keepIf: (existing: string) => existing.endsWith(`${rootName}\n`),
    });
    assert.deepEqual(new FileApplier(root, false).applyFile(step('root-a')), { status: 'unchanged', note: 'kept' });
    assert.equal(fs.readFileSync(path.join(root, 't/token'), 'utf8'), 'token for root-a\n');
    assert.deepEqual(new FileApplier(root, false).applyFile(step('root-b')), { status: 'changed' });
    assert.equal(fs.readFileSync(path.join(root, 't/token'), 'utf8'), 'new token for root-b\n');
    assert.equal(fs.statSync(path.join(root, 't/token')).mode & 0o777, 0o600);
    assert.deepEqual(new FileApplier(root, false).applyFile(step('root-b')), { status: 'unchanged', note: 'kept' });
  });

  it('renews a kept file when the file it derives from was just written', () => {
    fs.mkdirSync(path.join(root, 'c'));
    fs.writeFileSync(path.join(root, 'c/default.crt'), 'old cert\n');
    const files = new FileApplier(root, false);
    const cert = { kind: 'file' as const, path: '/c/default.crt', mode: 0o644, keepExisting: true, renewWith: '/c/default.key', content: (e: (p: string) => string | undefined) => `cert for ${e('/c/default.key')}` };
    assert.equal(files.applyFile({ kind: 'file', path: '/c/default.key', mode: 0o600, content: 'k1', keepExisting: true }).status, 'created');
    assert.equal(files.applyFile(cert).status, 'changed');
    assert.equal(fs.readFileSync(path.join(root, 'c/default.crt'), 'utf8'), 'cert for k1');
    const again = new FileApplier(root, false);
    assert.equal(again.applyFile({ kind: 'file', path: '/c/default.key', mode: 0o600, content: 'k2', keepExisting: true }).status, 'unchanged');
    assert.equal(again.applyFile(cert).status, 'unchanged');
  });

  it('replaces anything but the wanted link, and leaves the right link alone', () => {
    fs.mkdirSync(path.join(root, 'u'));
    fs.writeFileSync(path.join(root, 'u/bird.service'), '[Unit]\n');
    const files = new FileApplier(root, false);
    assert.equal(files.applyLink({ kind: 'link', path: '/u/bird.service', target: '/dev/null' }).status, 'changed');
    assert.equal(fs.readlinkSync(path.join(root, 'u/bird.service')), '/dev/null');
    assert.equal(files.applyLink({ kind: 'link', path: '/u/bird.service', target: '/dev/null' }).status, 'unchanged');
  });

  it('writes nothing in a dry run but still reports what would change', () => {
    const files = new FileApplier(root, true);
    assert.equal(files.applyDir({ kind: 'dir', path: '/d', mode: 0o700 }).status, 'created');
    assert.equal(files.applyFile({ kind: 'file', path: '/d/f', mode: 0o600, content: 'x' }).status, 'created');
    assert.equal(files.applyFile({ kind: 'file', path: '/d/g', mode: 0o644, content: (effective) => `${effective('/d/f')}!` }).status, 'created');
    assert.deepEqual(fs.readdirSync(root), []);
  });
});
