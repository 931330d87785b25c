import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiTokens, parseTokensFile } from './api-tokens';

describe('admin API tokens', () => {
  it('reads ROLE TOKEN lines with comments and maps tokens to roles', () => {
    const entries = parseTokensFile('# tokens\nadmin aaaaaaaaaaaaaaaaaaaa  # ops\n\nread  bbbbbbbbbbbbbbbbbbbb\n');
    assert.deepEqual(entries.map((e) => e.role), ['admin', 'read']);
    const tokens = ApiTokens.fromList([
      { role: 'admin', token: 'aaaaaaaaaaaaaaaaaaaa' },
      { role: 'read', token: 'bbbbbbbbbbbbbbbbbbbb' },
    ]);
    assert.equal(tokens.roleOf('aaaaaaaaaaaaaaaaaaaa'), 'admin');
    assert.equal(tokens.roleOf('bbbbbbbbbbbbbbbbbbbb'), 'read');
    assert.equal(tokens.roleOf('aaaaaaaaaaaaaaaaaaa'), undefined);
    assert.equal(tokens.roleOf(''), undefined);
  });

  it('refuses a malformed file with the line named', () => {
    assert.throws(() => parseTokensFile('admin\n', 'tokens'), /tokens:1: expected 'ROLE TOKEN'/);
    assert.throws(() => parseTokensFile('root aaaaaaaaaaaaaaaaaaaa\n', 'tokens'), /tokens:1: role must be 'admin' or 'read'/);
    assert.throws(() => parseTokensFile('\nadmin short\n', 'tokens'), /tokens:2: a token has at least 16 characters, this one has 5$/);
  });

  it('takes tokens from the environment too', () => {
    const tokens = ApiTokens.fromSources({ env: { MERIDIAN_ADMIN_TOKEN: 'cccccccccccccccccccc' } });
    assert.equal(tokens.roleOf('cccccccccccccccccccc'), 'admin');
  });

  it('holds a token from the environment to the same rule as one from the file, naming the variable', () => {
    assert.throws(() => ApiTokens.fromSources({ env: { MERIDIAN_ADMIN_TOKEN: 'admin' } }), /^TokenRuleError: MERIDIAN_ADMIN_TOKEN: a token has at least 16 characters, this one has 5$/);
    assert.throws(() => ApiTokens.fromSources({ env: { MERIDIAN_READ_TOKEN: 'read token with spaces' } }), /^TokenRuleError: MERIDIAN_READ_TOKEN: a token has only the characters .*; character 5 is not one of them$/);
    assert.throws(() => parseTokensFile('read read token with spaces\n', 'tokens'), /tokens:1: expected 'ROLE TOKEN'/);
    assert.throws(() => parseTokensFile('read tøken-tøken-tøken-tøken\n', 'tokens'), /^TokenRuleError: tokens:1: a token has only the characters .*; character 2 is not one of them$/);
  });
});
