import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { FileApplier, SymlinkRefusedError } from './apply-files';

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

  describe('never follows a symbolic link', () => {
    // A root-only file elsewhere on the machine that a planted link points at.
    let outside = '';
    let secret = '';
    beforeEach(() => {
      outside = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-apply-outside-'));
      secret = path.join(outside, 'shadow');
      fs.writeFileSync(secret, 'root only\n', { mode: 0o600 });
    });
    afterEach(() => fs.rmSync(outside, { recursive: true, force: true }));

    const unchanged = () => {
      assert.equal(fs.statSync(secret).mode & 0o777, 0o600);
      assert.equal(fs.readFileSync(secret, 'utf8'), 'root only\n');
    };
    const refused = (at: string) => (err: unknown) => err instanceof SymlinkRefusedError && err.path === at && err.message.startsWith(`${at} is a symbolic link`);

    it('refuses a kept file that is a link, rather than loosening the mode of what it points to', () => {
      fs.mkdirSync(path.join(root, 'bird'));
      fs.symlinkSync(secret, path.join(root, 'bird/bird.conf'));
      const files = new FileApplier(root, false);
      assert.throws(() => files.applyFile({ kind: 'file', path: '/bird/bird.conf', mode: 0o644, content: 'seed\n', keepExisting: true }), refused(path.join(root, 'bird/bird.conf')));
      unchanged();
    });

    it('refuses a file whose content already matches behind a link (the mode fix would go through it)', () => {
      fs.symlinkSync(secret, path.join(root, 'same'));
      assert.throws(() => new FileApplier(root, false).applyFile({ kind: 'file', path: '/same', mode: 0o644, content: 'root only\n' }), refused(path.join(root, 'same')));
      unchanged();
    });

    it('refuses a file to be replaced when it is a link, and never reads through it for a later step', () => {
      fs.symlinkSync(secret, path.join(root, 'public.key'));
      const files = new FileApplier(root, false);
      assert.throws(() => files.applyFile({ kind: 'file', path: '/public.key', mode: 0o644, content: 'new\n' }), refused(path.join(root, 'public.key')));
      assert.throws(() => files.applyFile({ kind: 'file', path: '/derived', mode: 0o644, content: (e) => `${e('/public.key')}` }), refused(path.join(root, 'public.key')));
      assert.ok(fs.lstatSync(path.join(root, 'public.key')).isSymbolicLink());
      assert.ok(!fs.existsSync(path.join(root, 'derived')));
      unchanged();
    });

    it('refuses a directory on the way that is a link, for files, directories and links alike', () => {
      fs.mkdirSync(path.join(root, 'var'));
      fs.symlinkSync(outside, path.join(root, 'var/certs'));
      const at = path.join(root, 'var/certs');
      const files = new FileApplier(root, false);
      assert.throws(() => files.applyFile({ kind: 'file', path: '/var/certs/shadow', mode: 0o644, content: 'root only\n' }), refused(at));
      assert.throws(() => files.applyFile({ kind: 'file', path: '/var/certs/new.key', mode: 0o600, content: 'k' }), refused(at));
      assert.throws(() => files.applyDir({ kind: 'dir', path: '/var/certs', mode: 0o755 }), refused(at));
      assert.throws(() => files.applyLink({ kind: 'link', path: '/var/certs/x.service', target: '/dev/null' }), refused(at));
      assert.deepEqual(fs.readdirSync(outside), ['shadow']);
      assert.equal(fs.statSync(outside).mode & 0o777, 0o700);
      unchanged();
    });

    it('refuses a FIFO planted where a file goes instead of waiting on it', () => {
      const fifo = path.join(root, 'fifo');
      const made = spawnSync('mkfifo', [fifo]);
      assert.equal(made.status, 0, String(made.stderr));
      assert.throws(() => new FileApplier(root, false).applyFile({ kind: 'file', path: '/fifo', mode: 0o600, content: 'x', keepExisting: true }), /fifo is neither a regular file nor a directory/);
    });
  });
});
