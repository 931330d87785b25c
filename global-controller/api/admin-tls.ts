// The admin API's TLS certificate. Either the operator's files (--https-cert,
// --https-key: a certificate from their own CA, read once at start), or one
// issued here from the active mesh root: the global controller's identity
// plus the --https host, localhost and the --tls-san names, sent with its
// root so the CLI can pin the root by fingerprint (GET /v1/ca shows it). The
// key is made in this process and kept in memory; the certificate is
// re-issued at two thirds of its life and when the roots change, and the
// listener takes the new one for new connections (setSecureContext).
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import type { Logger } from '../../lib/observability/logger';
import type { RootCaStore } from '../identity/root-ca-store';
import { GlobalServerCertificate } from '../identity/global-server-certificate';

export interface AdminTlsFiles {
  certFile: string;
  keyFile: string;
}

export interface AdminTlsOptions {
  // Names and addresses the issued certificate carries (ignored with files).
  hosts: string[];
  files?: AdminTlsFiles;
  lifetimeMs?: number;
  checkEveryMs?: number;
}

export class AdminTls {
  private context: tls.SecureContextOptions | undefined;
  private readonly certificate: GlobalServerCertificate | undefined;
  private readonly listeners: Array<(options: tls.SecureContextOptions) => void> = [];

  constructor(
    rootCa: RootCaStore | undefined,
    logger: Logger,
    private readonly opts: AdminTlsOptions,
  ) {
    if (opts.files || !rootCa) return;
    this.certificate = new GlobalServerCertificate(rootCa, logger, { purpose: 'admin API', hosts: opts.hosts, lifetimeMs: opts.lifetimeMs, checkEveryMs: opts.checkEveryMs });
    this.certificate.onIssue((c) => {
      const first = this.context === undefined;
      this.context = { cert: c.certChainPem, key: c.keyPem };
      if (!first) for (const l of this.listeners) l(this.context);
    });
  }

  // The certificate and key to serve now (after start()).
  get secureContext(): tls.SecureContextOptions {
    if (!this.context) throw new Error('the admin API TLS certificate is not ready');
    return this.context;
  }

  // Called with every re-issued certificate.
  onRenew(listener: (options: tls.SecureContextOptions) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.opts.files) {
      this.context = readFiles(this.opts.files);
      return;
    }
    if (!this.certificate) throw new Error('--https without --https-cert/--https-key needs the mesh CA (--data-key-file)');
    await this.certificate.start();
  }

  stop(): void {
    this.certificate?.stop();
  }
}

function readFiles(files: AdminTlsFiles): tls.SecureContextOptions {
  const read = (file: string, flag: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  const options = { cert: read(files.certFile, '--https-cert'), key: read(files.keyFile, '--https-key') };
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new Error(`--https-cert ${files.certFile} and --https-key ${files.keyFile}: not a usable certificate and key: ${(err as Error).message}`);
  }
  return options;
}
