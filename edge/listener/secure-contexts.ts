// TLS certificates by server name (SNI) for the HTTPS listener. Certificates
// come from files given on the command line (--cert/--key pairs, or a
// directory of NAME.crt + NAME.key), from Certificate resources
// (served-certificates.ts) and, on an ingress, from its mesh leaf;
// setSecureContexts() swaps them without dropping a connection: new
// handshakes get the new certificates, established ones keep theirs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
  // Where it came from, for messages.
  source: string;
  // The SNI names to serve it for; by default the certificate's own names.
  names?: readonly string[];
}

// What the public listener offers: TLS 1.2 and 1.3 only; for TLS 1.2 only
// ECDHE key exchange with AEAD ciphers (no RC4, 3DES, NULL, EXPORT, static
// RSA key exchange or CBC-SHA1 suites). Mozilla's "intermediate" profile
// without its DHE suites. Set on the server and on every SNI context.
export const EDGE_TLS_POLICY: Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder'> = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
};

export interface ClientAuth {
  // CA that client certificates must chain to.
  ca: Buffer;
  // Refuse a handshake without a valid client certificate.
  required: boolean;
}

// DNS names a certificate is for: its SAN DNS entries, else its CN.
export function certificateNames(pem: Buffer): string[] {
  const x509 = new X509Certificate(pem);
  const names = (x509.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (names.length > 0) return names;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

// --cert/--key as given: pairs in order, or one directory holding NAME.crt
// (or NAME.pem) next to NAME.key. The first pair (in a directory: default.crt
// if there is one, else the first by name) is the default certificate.
export function loadCertificatePairs(certs: readonly string[], keys: readonly string[]): CertificatePair[] {
  if (certs.length === 1 && keys.length === 0 && fs.statSync(certs[0]).isDirectory()) return loadDirectory(certs[0]);
  if (certs.length !== keys.length) {
    throw new Error(`--cert and --key must come in pairs (got ${certs.length} --cert and ${keys.length} --key), or --cert names a directory`);
  }
  return certs.map((cert, i) => ({ cert: fs.readFileSync(cert), key: fs.readFileSync(keys[i]), source: cert }));
}

function loadDirectory(dir: string): CertificatePair[] {
  const pairs: CertificatePair[] = [];
  for (const file of fs.readdirSync(dir).sort()) {
    const m = /^(.*)\.(crt|pem)$/.exec(file);
    if (!m) continue;
    const keyFile = path.join(dir, `${m[1]}.key`);
    if (!fs.existsSync(keyFile)) continue;
    const pair = { cert: fs.readFileSync(path.join(dir, file)), key: fs.readFileSync(keyFile), source: path.join(dir, file) };
    if (m[1] === 'default') pairs.unshift(pair);
    else pairs.push(pair);
  }
  if (pairs.length === 0) throw new Error(`${dir}: no NAME.crt (or NAME.pem) with a NAME.key next to it`);
  return pairs;
}

interface ServerWithContext {
  setSecureContext(options: tls.SecureContextOptions): void;
}

export class SecureContextStore {
  private exact = new Map<string, tls.SecureContext>();
  private wildcard = new Map<string, tls.SecureContext>();
  private defaultContext: tls.SecureContext | undefined;
  private defaultOptions: tls.SecureContextOptions | undefined;
  private names: string[] = [];
  private readonly servers: ServerWithContext[] = [];

  constructor(
    pairs: readonly CertificatePair[],
    private readonly clientAuth?: ClientAuth,
  ) {
    this.setSecureContexts(pairs);
  }

  // tls.Server's SNICallback: exact name, then *.parent, then the default.
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
    const name = servername.toLowerCase();
    let ctx = this.exact.get(name);
    if (ctx === undefined) {
      const dot = name.indexOf('.');
      if (dot > 0) ctx = this.wildcard.get(name.slice(dot + 1));
    }
    cb(null, ctx ?? this.defaultContext);
  };

  // The options a TLS server starts with (the default certificate).
  serverOptions(): tls.SecureContextOptions {
    return this.defaultOptions ?? {};
  }

  attach(server: ServerWithContext): void {
    this.servers.push(server);
  }

  // Replaces every certificate; the first pair becomes the default.
  setSecureContexts(pairs: readonly CertificatePair[]): void {
    if (pairs.length === 0) throw new Error('at least one certificate is needed for the HTTPS listener');
    const exact = new Map<string, tls.SecureContext>();
    const wildcard = new Map<string, tls.SecureContext>();
    const names: string[] = [];
    let first: { ctx: tls.SecureContext; options: tls.SecureContextOptions } | undefined;
    for (const pair of pairs) {
      const options: tls.SecureContextOptions = { ...EDGE_TLS_POLICY, cert: pair.cert, key: pair.key };
      if (this.clientAuth) options.ca = this.clientAuth.ca;
      let ctx: tls.SecureContext;
      try {
        ctx = tls.createSecureContext(options);
      } catch (err) {
        throw new Error(`${pair.source}: ${(err as Error).message}`);
      }
      first ??= { ctx, options };
      for (const name of pair.names ?? certificateNames(pair.cert)) {
        names.push(name);
        if (name.startsWith('*.')) {
          if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), ctx);
        } else if (!exact.has(name)) {
          exact.set(name, ctx);
        }
      }
    }
    this.exact = exact;
    this.wildcard = wildcard;
    this.names = names;
    this.defaultContext = first!.ctx;
    this.defaultOptions = first!.options;
    for (const server of this.servers) server.setSecureContext(this.defaultOptions);
  }

  summary(): { names: string[] } {
    return { names: this.names };
  }
}
