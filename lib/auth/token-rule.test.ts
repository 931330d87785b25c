import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkToken, TOKEN_MAX_LENGTH, TOKEN_MIN_LENGTH, TokenRuleError } from './token-rule';

describe('the token rule', () => {
  it('accepts the tokens Meridian and operators make: hex, base64, base64url, dotted', () => {
    for (const token of ['0123456789abcdef', 'adm_7f3c9e2b5a1d4f6e', 'q83vEjRWeJq83vEjRWeJ+/==', 'mzt1.eyJyIjoiZnJhIn0.c2lnbmF0dXJl', 'role:name~v1-abcdefgh']) {
      assert.equal(checkToken(token, 'MERIDIAN_TOKEN'), token);
    }
    assert.equal(checkToken('a'.repeat(TOKEN_MAX_LENGTH), '--token'), 'a'.repeat(TOKEN_MAX_LENGTH));
  });

  it('refuses a short token, naming the source and the limit but not the token', () => {
    assert.equal(TOKEN_MIN_LENGTH, 16);
    assert.throws(() => checkToken('hunter2', 'MERIDIAN_ADMIN_TOKEN'), (err: unknown) => {
      assert.ok(err instanceof TokenRuleError);
      assert.equal(err.source, 'MERIDIAN_ADMIN_TOKEN');
      assert.equal(err.message, 'MERIDIAN_ADMIN_TOKEN: a token has at least 16 characters, this one has 7');
      return true;
    });
    assert.throws(() => checkToken('a'.repeat(15), '--token'), /^TokenRuleError: --token: a token has at least 16/);
    assert.throws(() => checkToken('', '/etc/meridian/tokens:2'), /\/etc\/meridian\/tokens:2: a token has at least 16 characters, this one has 0/);
  });

  it('refuses a token longer than the bound', () => {
    assert.throws(() => checkToken('a'.repeat(TOKEN_MAX_LENGTH + 1), '--admin-token-file /x'), /--admin-token-file \/x: a token has at most 4096 characters, this one has 4097/);
  });

  it('refuses spaces, quotes, control and non-ASCII characters, saying which position', () => {
    const cases: Array<[string, number]> = [
      ['0123456789abcdef with space', 17],
      ['"0123456789abcdef"', 1],
      ['0123456789abcdef\r', 17],
      ['0123456789abcdéf', 15],
      ['0123456789abcdef#comment', 17],
    ];
    for (const [token, position] of cases) {
      assert.throws(() => checkToken(token, 'MERIDIAN_READ_TOKEN'), (err: Error) => {
        assert.equal(err.message, `MERIDIAN_READ_TOKEN: a token has only the characters A-Z a-z 0-9 . _ ~ + / = : - (no spaces); character ${position} is not one of them`);
        assert.ok(!err.message.includes(token));
        return true;
      }, JSON.stringify(token));
    }
  });
});
