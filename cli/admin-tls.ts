// How the CLI trusts the admin API's HTTPS certificate: the CAs of a PEM
// bundle (--ca-file, MERIDIAN_CA), the mesh root pinned by its fingerprint
// (--ca-fingerprint, MERIDIAN_CA_FINGERPRINT), or else the system's CAs.
// A pinned root accepts one certificate only: the global controller's own
// (spiffe://<td>/region/global/global/controller), signed by that root
// directly; a proxy's leaf, whose chain also reaches the root through its
// zone CA, is not the admin API. The check runs on the handshake, before a
// byte of the request (and its token) is written.
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Agent, buildConnector } from 'undici';
import { certificateFingerprint } from '../lib/pki/fingerprint';
import type { ParsedArgs } from './args';
import { stringOption } from './args';
import { CliError } from './errors';

export type AdminTrust =
  | { kind: 'system' }
  | { kind: 'ca-file'; source: string; pem: string }
  | { kind: 'fingerprint'; source: string; fingerprint: string };

const FINGERPRINT = /^sha256:([0-9a-f]{64})$/i;
const GLOBAL_IDENTITY = /(?:^|,\s*)URI:spiffe:\/\/[^/,\s]+\/region\/global\/global\/controller(?:,|$)/;

export function trustFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv): AdminTrust {
  const caFile = stringOption(args, 'ca-file');
  const pin = stringOption(args, 'ca-fingerprint');
  if (caFile !== undefined && pin !== undefined) throw new CliError('give --ca-file or --ca-fingerprint, not both');
  if (caFile !== undefined) return { kind: 'ca-file', source: `--ca-file ${caFile}`, pem: readBundle(caFile, `--ca-file ${caFile}`) };
  if (pin !== undefined) return { kind: 'fingerprint', source: '--ca-fingerprint', fingerprint: parsePin(pin, '--ca-fingerprint') };
  const envCa = env.MERIDIAN_CA || undefined;
  const envPin = env.MERIDIAN_CA_FINGERPRINT || undefined;
  if (envCa !== undefined && envPin !== undefined) throw new CliError('MERIDIAN_CA and MERIDIAN_CA_FINGERPRINT are both set: keep one');
  if (envCa !== undefined) {
    // The bundle itself, or the path of a file holding it.
    if (envCa.includes('-----BEGIN')) return { kind: 'ca-file', source: 'MERIDIAN_CA', pem: checkBundle(envCa, 'MERIDIAN_CA') };
    return { kind: 'ca-file', source: `MERIDIAN_CA (${envCa})`, pem: readBundle(envCa, `MERIDIAN_CA ${envCa}`) };
  }
  if (envPin !== undefined) return { kind: 'fingerprint', source: 'MERIDIAN_CA_FINGERPRINT', fingerprint: parsePin(envPin, 'MERIDIAN_CA_FINGERPRINT') };
  return { kind: 'system' };
}

function parsePin(value: string, where: string): string {
  const m = FINGERPRINT.exec(value.trim());
  if (!m) throw new CliError(`${where}: expected sha256:<64 hex digits> (the root's fingerprint, from GET /v1/ca or \`meridian token create\`), got "${value}"`);
  return `sha256:${m[1]!.toLowerCase()}`;
}

function readBundle(file: string, where: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${where}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return checkBundle(text, where);
}

function checkBundle(text: string, where: string): string {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new CliError(`${where}: no PEM certificate in it`);
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new CliError(`${where}: a certificate in it does not parse: ${(err as Error).message}`);
    }
  }
  return pems.join('\n');
}

// Refused before any connection: the handshake did not reach the request.
export class ServerTrustError extends Error {}

export function adminDispatcher(trust: AdminTrust, timeoutMs: number): Agent {
  if (trust.kind === 'system') return new Agent({ connect: { timeout: timeoutMs } });
  if (trust.kind === 'ca-file') return new Agent({ connect: { timeout: timeoutMs, ca: trust.pem } });
  // Pinned: the handshake completes without the system's verdict, then the
  // chain is checked here; a refused socket is closed before any request.
  const base = buildConnector({ timeout: timeoutMs, rejectUnauthorized: false });
  return new Agent({
    connect: (opts, callback) => {
      base(opts, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error('no socket'), null);
        const reason = checkPinnedChain((socket as tls.TLSSocket).getPeerCertificate(true), trust.fingerprint);
        if (reason === undefined) return callback(null, socket);
        socket.destroy();
        callback(new ServerTrustError(reason), null);
      });
    },
  });
}

// Why the chain a server presented is not the global controller's under the
// pinned root; undefined when it is.
export function checkPinnedChain(peer: tls.DetailedPeerCertificate | undefined, fingerprint: string, now = new Date()): string | undefined {
  if (!peer?.raw) return 'the server presented no certificate';
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  const rootAt = chain.findIndex((c) => certificateFingerprint(c.raw) === fingerprint);
  if (rootAt < 0) return `the server's certificate chain does not contain the root CA ${fingerprint} (--ca-fingerprint / MERIDIAN_CA_FINGERPRINT): is this the right server, or was the root rotated?`;
  const root = chain[rootAt]!;
  if (!root.ca || !root.checkIssued(root) || !root.verify(root.publicKey)) return `the certificate with fingerprint ${fingerprint} the server sent is not a self-signed CA`;
  const leaf = chain[0]!;
  if (rootAt !== 1 || !leaf.checkIssued(root) || !leaf.verify(root.publicKey)) {
    return `the server's certificate is not signed by the root CA ${fingerprint} directly: it is not the global controller's`;
  }
  if (!GLOBAL_IDENTITY.test(leaf.subjectAltName ?? '')) return `the server's certificate, signed by the root CA ${fingerprint}, is not the global controller's (no spiffe://.../region/global/global/controller)`;
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) return `the server's certificate is not valid now (valid ${leaf.validFrom} to ${leaf.validTo})`;
  return undefined;
}

// The TLS errors of a failed verification, in words naming where the trust came from.
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function describeTrustFailure(err: unknown, trust: AdminTrust, server: string): string | undefined {
  if (err instanceof ServerTrustError) return `cannot trust the global controller at ${server}: ${err.message}`;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !VERIFY_CODES.has(code)) return undefined;
  const detail = (err as Error).message;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate at ${server} does not name that host (${detail}); dial a name it carries (the --https host, --tls-san names), or pin the mesh root with --ca-fingerprint`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate at ${server} is not valid now (${code})`;
  if (trust.kind === 'ca-file') return `the server's certificate is not signed by the CA in ${trust.source} (${code}): is ${server} the right server, and the file its CA?`;
  return `the server's certificate at ${server} is not signed by a CA this system trusts (${code}); give --ca-file FILE (MERIDIAN_CA) or pin the mesh root with --ca-fingerprint sha256:<hex> (MERIDIAN_CA_FINGERPRINT; GET /v1/ca shows it)`;
}
