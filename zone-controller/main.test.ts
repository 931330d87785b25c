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
      main(['--region', 'fra', '--join-token', 'unused-join-token-placeholder', '--state-dir', dir, '--state-key-file', path.join(dir, 'state.key')]),
      /--state-key-file: .*state\.key is inside --state-dir .*; keep the state key apart from the state it seals/,
    );
  });

  it('holds the join token to the token rule from every source, naming the source', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-main-'));
    try {
      const args = ['--region', 'fra', '--state-dir', path.join(dir, 'state')];
      await assert.rejects(main([...args, '--join-token', 'short']), /^TokenRuleError: --join-token: a token has at least 16 characters, this one has 5$/);
      fs.writeFileSync(path.join(dir, 'token'), 'mzt1 with spaces in it\n');
      await assert.rejects(main([...args, '--join-token-file', path.join(dir, 'token')]), /--join-token-file .*token: a token has only the characters .*; character 5 is not one of them$/);
      const saved = process.env.MERIDIAN_JOIN_TOKEN;
      process.env.MERIDIAN_JOIN_TOKEN = 'mzt1.x.y';
      try {
        await assert.rejects(main(args), /^TokenRuleError: MERIDIAN_JOIN_TOKEN: a token has at least 16 characters, this one has 8$/);
      } finally {
        if (saved === undefined) delete process.env.MERIDIAN_JOIN_TOKEN;
        else process.env.MERIDIAN_JOIN_TOKEN = saved;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
