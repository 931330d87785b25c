import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, parseApplyBodyLimit } from './apply-limits';

describe('parseApplyBodyLimit', () => {
  it('reads MiB, KiB and bytes', () => {
    assert.equal(parseApplyBodyLimit('1MiB'), 1024 * 1024);
    assert.equal(parseApplyBodyLimit('512KiB'), 512 * 1024);
    assert.equal(parseApplyBodyLimit('65536'), 65536);
  });

  it('refuses sizes outside 16 KiB to 4 MiB and what is no size, naming the flag', () => {
    assert.throws(() => parseApplyBodyLimit('5MiB'), /^Error: --apply-body-limit 5MiB: must be from 16KiB to 4MiB$/);
    assert.throws(() => parseApplyBodyLimit('1KiB'), /must be from 16KiB to 4MiB/);
    assert.throws(() => parseApplyBodyLimit('1GB'), /^Error: --apply-body-limit 1GB: not a size like 1MiB, 512KiB or 1048576$/);
    assert.throws(() => parseApplyBodyLimit('-1'), /not a size/);
  });

  it('names a limit in the unit it was given in', () => {
    assert.equal(formatBytes(1024 * 1024), '1 MiB');
    assert.equal(formatBytes(48 * 1024), '48 KiB');
    assert.equal(formatBytes(20_000), '20000 bytes');
  });
});
