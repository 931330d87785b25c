import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadStateKey, stateKeySource } from './state-key';

describe('state key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-key-'));

  it('comes from the flag, else from the systemd credential meridian-state-key, else not at all', () => {
    const credentials = path.join(dir, 'credentials');
    fs.mkdirSync(credentials);
    assert.deepEqual(stateKeySource('/etc/meridian/state.key', { CREDENTIALS_DIRECTORY: credentials }), { file: '/etc/meridian/state.key', from: 'flag' });
    assert.equal(stateKeySource(undefined, { CREDENTIALS_DIRECTORY: credentials }), undefined, 'a credentials directory without it');
    fs.writeFileSync(path.join(credentials, 'meridian-state-key'), randomBytes(32).toString('hex'), { mode: 0o400 });
    assert.deepEqual(stateKeySource(undefined, { CREDENTIALS_DIRECTORY: credentials }), { file: path.join(credentials, 'meridian-state-key'), from: 'systemd credential' });
    assert.equal(stateKeySource(undefined, {}), undefined);
  });

  it('follows the data key rules, and its errors name the state key file', () => {
    const short = path.join(dir, 'short.key');
    fs.writeFileSync(short, 'too short', { mode: 0o600 });
    assert.throws(() => loadStateKey(short), /^.*state key file .*short\.key holds 9 bytes; it must hold at least 32/);
    const open = path.join(dir, 'open.key');
    fs.writeFileSync(open, randomBytes(32).toString('hex'), { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    assert.throws(() => loadStateKey(open), /state key file .*open\.key is accessible by group or others \(mode 0644\); run: chmod 600/);
    const good = path.join(dir, 'good.key');
    fs.writeFileSync(good, randomBytes(32).toString('hex'), { mode: 0o600 });
    assert.match(loadStateKey(good).kid, /^[0-9a-f]{16}$/);
  });
});
