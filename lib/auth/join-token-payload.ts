// What a zone may read from its own join token without the key: the payload
// is signed, not secret (lib/auth/join-tokens.ts makes and
// verifies it). The zone learns its region and the mesh's trust domain from
// it, so it can ask for its CA in the same Hello that presents the token, and
// the root CA's fingerprint, so it can tell the real global controller on
// first contact (lib/grpc/pinned-root.ts).
export function peekJoinToken(token: string): { region?: string; trustDomain?: string; rootFingerprint?: string } {
  try {
    const raw = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { r?: unknown; td?: unknown; rca?: unknown };
    return {
      region: typeof raw.r === 'string' ? raw.r : undefined,
      trustDomain: typeof raw.td === 'string' ? raw.td : undefined,
      rootFingerprint: typeof raw.rca === 'string' ? raw.rca : undefined,
    };
  } catch {
    return {};
  }
}
