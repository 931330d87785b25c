// A token from the environment is held to the same rule as one from a file
// or a flag, by every part started as a real process: a short or malformed
// one stops it at start with the variable named (never the token), before it
// opens a port or calls anyone.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/testing/run-cli';

describe('tokens from the environment, real processes', () => {
  it('the global controller refuses a short MERIDIAN_ADMIN_TOKEN and a malformed MERIDIAN_READ_TOKEN', async () => {
    const args = ['global-controller', '--etcd', 'http://127.0.0.1:1', '--http', '127.0.0.1:0'];
    const short = await runCli(args, { env: { MERIDIAN_ADMIN_TOKEN: 'short' } });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /MERIDIAN_ADMIN_TOKEN: a token has at least 16 characters, this one has 5/);
    const spaced = await runCli(args, { env: { MERIDIAN_ADMIN_TOKEN: 'a'.repeat(20), MERIDIAN_READ_TOKEN: 'read token with spaces' } });
    assert.equal(spaced.code, 1);
    assert.match(spaced.stderr, /MERIDIAN_READ_TOKEN: a token has only the characters .*; character 5 is not one of them/);
    assert.ok(!spaced.stderr.includes('read token with spaces'), 'the token itself is not echoed');
  });

  it('the zone controller refuses a short MERIDIAN_JOIN_TOKEN', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-rule-'));
    try {
      const r = await runCli(['zone-controller', '--region', 'fra', '--state-dir', path.join(dir, 'state')], { env: { MERIDIAN_JOIN_TOKEN: 'mzt1.x.y' } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /MERIDIAN_JOIN_TOKEN: a token has at least 16 characters, this one has 8/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI refuses a short MERIDIAN_INSTANCE_TOKEN before sending anything', async () => {
    const r = await runCli(['register', '--zone', 'http://127.0.0.1:1', '--service', 'echo', '--id', 'echo-1', '--address', '10.0.0.1', '--port', '80'], {
      env: { MERIDIAN_INSTANCE_TOKEN: 'mit1.short' },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /MERIDIAN_INSTANCE_TOKEN: a token has at least 16 characters, this one has 10/);
  });
});
