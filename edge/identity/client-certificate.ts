// What the client of a TLS connection proved: its certificate chain, as sent
// in the handshake, checked against the mesh roots with lib/pki verifyChain
// (signatures, validity, CA flags, the SPIFFE ID within its zone CA's
// region). The listener asks for a certificate but does not refuse the
// handshake (requestCert, rejectUnauthorized: false), so each refusal can be
// answered per request with an HTTP status and a reason.
import type { TLSSocket } from 'node:tls';
import { verifyChain, type Role, type VerifyFailureReason } from '../../lib/pki';

export type ClientCertificateRefusal = 'no-client-certificate' | 'untrusted' | 'expired' | 'invalid';

export type ClientCertificateCheck =
  | { ok: true; identity: string; serial: string; notAfterMs: number }
  | { ok: false; reason: ClientCertificateRefusal; detail: string };

// The short reasons sent to the caller (the detail goes to the log).
export const REFUSAL_MESSAGES: Record<ClientCertificateRefusal, string> = {
  'no-client-certificate': 'client certificate required',
  untrusted: 'certificate not issued by this mesh',
  expired: 'certificate expired',
  invalid: 'certificate is not a valid mesh identity',
};

const REASONS: Partial<Record<VerifyFailureReason, ClientCertificateRefusal>> = { untrusted: 'untrusted', expired: 'expired' };

// leafRoles: the roles a caller may have (default: proxies, as at an
// ingress; the mesh listener also takes workloads).
export function checkClientCertificate(socket: TLSSocket, roots: readonly string[], at = new Date(), leafRoles?: readonly Role[]): ClientCertificateCheck {
  const [leaf, ...chain] = peerChain(socket);
  if (leaf === undefined) return { ok: false, reason: 'no-client-certificate', detail: 'the client sent no certificate' };
  const result = verifyChain({ leafPem: leaf, chainPems: chain, rootPems: [...roots], at, ...(leafRoles ? { leafRoles } : {}) });
  if (result.ok) return { ok: true, identity: result.identity, serial: result.serial, notAfterMs: result.notAfter.getTime() };
  return { ok: false, reason: REASONS[result.reason] ?? 'invalid', detail: result.message };
}

// DER certificates the peer sent, leaf first (Node links them through
// issuerCertificate; a self-signed one links to itself).
function peerChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let cert = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | null;
  while (cert?.raw !== undefined && !chain.some((c) => c.equals(cert!.raw!))) {
    chain.push(cert.raw);
    cert = cert.issuerCertificate as typeof cert;
  }
  return chain;
}

// The TLS socket under a request: HTTP/1.1's own, HTTP/2's session socket.
export function tlsSocketOf(req: { socket?: unknown; stream?: unknown }): TLSSocket | undefined {
  const h2 = (req as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket;
  const socket = (h2 ?? req.socket) as Partial<TLSSocket> | undefined;
  return socket !== undefined && typeof socket.getPeerCertificate === 'function' ? (socket as TLSSocket) : undefined;
}
