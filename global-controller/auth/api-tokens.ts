// Bearer tokens of the admin API. Loaded once at start from a file
// (`ROLE TOKEN` per line, `#` comments) and/or the environment. Compared in
// constant time; the values are never logged, only the role that matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { checkToken } from '../../lib/auth/token-rule';

export type ApiRole = 'admin' | 'read';

interface TokenEntry {
  role: ApiRole;
  digest: Buffer;
}

// Hashing first gives equal-length buffers, so timingSafeEqual applies and
// the comparison does not leak the token's length either.
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class ApiTokens {
  private constructor(private readonly entries: TokenEntry[]) {}

  static fromSources(opts: { file?: string; env?: NodeJS.ProcessEnv }): ApiTokens {
    const entries: TokenEntry[] = [];
    if (opts.file) entries.push(...parseTokensFile(fs.readFileSync(opts.file, 'utf8'), opts.file));
    const env = opts.env ?? {};
    // The same rule as the file's; set but empty counts as not set.
    if (env.MERIDIAN_ADMIN_TOKEN) entries.push({ role: 'admin', digest: digest(checkToken(env.MERIDIAN_ADMIN_TOKEN, 'MERIDIAN_ADMIN_TOKEN')) });
    if (env.MERIDIAN_READ_TOKEN) entries.push({ role: 'read', digest: digest(checkToken(env.MERIDIAN_READ_TOKEN, 'MERIDIAN_READ_TOKEN')) });
    return new ApiTokens(entries);
  }

  static fromList(list: { role: ApiRole; token: string }[]): ApiTokens {
    return new ApiTokens(list.map((t) => ({ role: t.role, digest: digest(t.token) })));
  }

  get size(): number {
    return this.entries.length;
  }

  // Returns the role of the token, or undefined. Checks every entry so the
  // time taken does not depend on which one matched.
  roleOf(token: string): ApiRole | undefined {
    const d = digest(token);
    let role: ApiRole | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && role !== 'admin') role = e.role;
    }
    return role;
  }
}

export function parseTokensFile(text: string, source = 'tokens file'): TokenEntry[] {
  const entries: TokenEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new Error(`${source}:${i + 1}: expected 'ROLE TOKEN'`);
    const [role, token] = parts as [string, string];
    if (role !== 'admin' && role !== 'read') throw new Error(`${source}:${i + 1}: role must be 'admin' or 'read', got '${role}'`);
    checkToken(token, `${source}:${i + 1}`);
    entries.push({ role, digest: digest(token) });
  });
  return entries;
}
