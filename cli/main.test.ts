import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { runCli } from './testing/run-cli';

describe('meridian', () => {
  it('prints the commands with --help', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0);
    assert.equal(run.stderr, '');
    for (const command of ['apply', 'get', 'delete', 'token create\\|list\\|revoke', 'session list\\|end', 'global-controller', 'zone-controller', 'edge', 'demo']) {
      assert.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
    }
  });

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const run = await runCli([]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^Usage: meridian <command>/);
  });

  it('prints a command usage with <command> --help and with help <command>', async () => {
    for (const args of [['get', '--help'], ['help', 'get'], ['get', '-h']]) {
      const run = await runCli(args);
      assert.equal(run.code, 0, args.join(' '));
      assert.match(run.stdout, /^Usage: meridian get KIND \[NAME\]/);
    }
  });

  it('refuses an unknown command in one line with a hint', async () => {
    const run = await runCli(['frobnicate']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `error: unknown command "frobnicate" (run 'meridian --help' for usage)\n`);
  });

  it('refuses an unknown option of a command in one line', async () => {
    const run = await runCli(['get', 'regions', '--colour']);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `error: unknown option '--colour' (run 'meridian get --help' for usage)\n`);
  });
});
