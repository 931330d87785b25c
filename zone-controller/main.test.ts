import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { main } from './main';

describe('zone-controller flags', () => {
  it('refuses a state key kept inside the state dir it seals', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-main-'));
    await assert.rejects(
      main(['--region', 'fra', '--join-token', 'unused', '--state-dir', dir, '--state-key-file', path.join(dir, 'state.key')]),
      /--state-key-file: .*state\.key is inside --state-dir .*; keep the state key apart from the state it seals/,
    );
  });

  it('says in --help what the state key seals and what happens without one', async () => {
    let out = '';
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
    try {
      await main(['--help']);
    } finally {
      process.stdout.write = write;
    }
    assert.match(out, /--state-key-file FILE +seals the zone CA key and the WireGuard key/);
    assert.match(out, /meridian-state-key/);
    assert.match(out, /a restart then needs a new join token/);
  });
});
