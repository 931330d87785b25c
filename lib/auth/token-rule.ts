// The one rule for a bearer token, whatever it came from: a file, an
// environment variable or a flag, given to a part (which then accepts it) or
// to the CLI (which sends it). Long enough not to be guessed, short enough to
// bound, and only characters that travel unchanged in an Authorization header
// and in a `ROLE TOKEN` line (RFC 6750's b64token, and ':').
export const TOKEN_MIN_LENGTH = 16;
export const TOKEN_MAX_LENGTH = 4096;
const TOKEN_CHARACTER = /[A-Za-z0-9._~+/=:-]/;

export class TokenRuleError extends Error {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'TokenRuleError';
  }
}

// `source` says where the token came from, as the user would look for it:
// 'MERIDIAN_ADMIN_TOKEN', '--token', '--admin-token-file /etc/meridian/admin.token',
// '/etc/meridian/tokens:3'. The token itself is never in the message.
export function checkToken(token: string, source: string): string {
  if (token.length < TOKEN_MIN_LENGTH) throw new TokenRuleError(source, `a token has at least ${TOKEN_MIN_LENGTH} characters, this one has ${token.length}`);
  if (token.length > TOKEN_MAX_LENGTH) throw new TokenRuleError(source, `a token has at most ${TOKEN_MAX_LENGTH} characters, this one has ${token.length}`);
  for (let i = 0; i < token.length; i++) {
    if (!TOKEN_CHARACTER.test(token[i]!)) {
      throw new TokenRuleError(source, `a token has only the characters A-Z a-z 0-9 . _ ~ + / = : - (no spaces); character ${i + 1} is not one of them`);
    }
  }
  return token;
}
