// The HTTPS listener's certificates, kept current: the --cert/--key files
// (re-read when they change on disk, e.g. a renewal by certbot or a secret
// mount) and the Certificate resources of the view (by their spec.hosts).
// The first file stays the default certificate, for clients without SNI or
// with a name nothing else covers. A change never drops a connection: new
// handshakes get the new certificates. A file or resource that cannot be
// loaded is logged and the certificates in force stay.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { Logger } from '../../lib/observability/logger';
import type { CertificateResource } from '../../lib/resources';
import type { EdgeView } from '../config/edge-view';
import type { GatewayObserver } from '../observability/gateway-observer';
import { certificateNames, EDGE_TLS_POLICY, type CertificatePair, type SecureContextStore } from './secure-contexts';

export interface ServedCertificatesOptions {
  contexts: SecureContextStore;
  // The --cert/--key paths (files, or one directory) and how to load them.
  paths: readonly string[];
  loadFiles: () => CertificatePair[];
  pollMs?: number;
  logger: Logger;
}

export class ServedCertificates implements GatewayObserver {
  private files: CertificatePair[];
  private resources: ReadonlyMap<string, CertificateResource> = new Map();
  private resourcePairs: CertificatePair[] = [];
  private signature: string;
  private readonly timer: NodeJS.Timeout;
  reloads = 0;

  constructor(private readonly o: ServedCertificatesOptions) {
    this.files = o.loadFiles();
    this.signature = filesSignature(o.paths);
    this.timer = setInterval(() => this.checkFiles(), o.pollMs ?? 1000);
    this.timer.unref();
  }

  onView(view: EdgeView): void {
    if (view.certificates === this.resources) return;
    this.resources = view.certificates;
    this.resourcePairs = [];
    for (const cert of view.certificates.values()) {
      const pair = { cert: Buffer.from(cert.spec.certificate), key: Buffer.from(cert.spec.privateKey), source: `Certificate/${cert.metadata.name}`, names: cert.spec.hosts };
      try {
        tls.createSecureContext({ ...EDGE_TLS_POLICY, cert: pair.cert, key: pair.key });
        this.resourcePairs.push(pair);
      } catch (err) {
        this.o.logger.error({ certificate: pair.source, err: (err as Error).message }, 'certificate not served');
      }
    }
    this.apply('resources');
  }

  summary(): Record<string, unknown> {
    return { servedCertificates: { files: this.files.map((p) => p.source), resources: this.resourcePairs.map((p) => p.source), reloads: this.reloads } };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private checkFiles(): void {
    const signature = filesSignature(this.o.paths);
    if (signature === this.signature) return;
    this.signature = signature;
    try {
      this.files = this.o.loadFiles();
    } catch (err) {
      // Half-written (a copy in progress): the next change or poll tries again.
      this.o.logger.warn({ err: (err as Error).message }, 'certificate files changed but cannot be loaded; keeping the ones in force');
      this.signature = '';
      return;
    }
    this.apply('files');
  }

  // Resources win for their hosts; the first file stays the default.
  private apply(why: string): void {
    const claimed = new Set(this.resourcePairs.flatMap((p) => p.names ?? []));
    const files = this.files.map((p) => ({ ...p, names: (p.names ?? certificateNames(p.cert)).filter((n) => !claimed.has(n)) }));
    const [first, ...rest] = files;
    const pairs = first ? [first, ...this.resourcePairs, ...rest] : this.resourcePairs;
    if (pairs.length === 0) return;
    try {
      this.o.contexts.setSecureContexts(pairs);
      this.reloads++;
      this.o.logger.info({ why, files: this.files.length, resources: this.resourcePairs.length }, 'HTTPS certificates reloaded');
    } catch (err) {
      this.o.logger.error({ why, err: (err as Error).message }, 'HTTPS certificates not reloaded; keeping the ones in force');
      if (why === 'files') this.signature = '';
    }
  }
}

// Size and modification time of every file named (and in a named directory).
function filesSignature(paths: readonly string[]): string {
  const parts: string[] = [];
  const add = (p: string) => {
    try {
      const st = fs.statSync(p);
      if (st.isDirectory()) for (const f of fs.readdirSync(p).sort()) add(path.join(p, f));
      else parts.push(`${p}:${st.size}:${st.mtimeMs}`);
    } catch {
      parts.push(`${p}:missing`);
    }
  };
  for (const p of paths) add(p);
  return parts.join('|');
}
