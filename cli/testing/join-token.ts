// A join token as the global controller makes it (lib/auth/
// join-tokens.ts: region, trust domain and the root's fingerprint in the
// payload), signed with a throwaway key, for the tests of `meridian bootstrap`,
// which reads the payload but never verifies the signature.
import { createHash, randomBytes } from 'node:crypto';

import { createJoinToken } from '../../lib/auth/join-tokens';

export interface TestJoinToken {
  token: string;
  /** "sha256:<hex>", the rca the token carries. */
  rootFingerprint: string;
}

export function testJoinToken(region: string, rootFingerprint = `sha256:${createHash('sha256').update(randomBytes(32)).digest('hex')}`): TestJoinToken {
  const { token } = createJoinToken(randomBytes(32), region, 2 * 3_600_000, Date.now(), 'meridian.local', rootFingerprint);
  return { token, rootFingerprint };
}
