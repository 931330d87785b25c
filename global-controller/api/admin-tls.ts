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
import { certificateFingerprint, generateKeyPairAsync, msUntilRotation } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import type { RootCaStore } from '../identity/root-ca-store';

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
  private keyPem = '';
  private publicKeyPem = '';
  private rootsKey = '';
  private renewAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(options: tls.SecureContextOptions) => void> = [];

  constructor(
    private readonly rootCa: RootCaStore | undefined,
    private readonly logger: Logger,
    private readonly opts: AdminTlsOptions,
  ) {}

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
    if (!this.rootCa) throw new Error('--https without --https-cert/--https-key needs the mesh CA (--data-key-file)');
    const pair = await generateKeyPairAsync();
    this.keyPem = pair.privateKeyPem;
    this.publicKeyPem = pair.publicKeyPem;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.refresh();
        break;
      } catch (err) {
        if (attempt === 1) this.logger.warn({ err: (err as Error).message }, 'cannot issue the admin API TLS certificate yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
      }
    }
    const retry = (what: string) => (err: unknown) => this.logger.warn({ err: (err as Error).message }, what);
    this.rootCa.onChange(() => void this.refresh().catch(retry('cannot re-issue the admin API TLS certificate after a root change')));
    this.timer = setInterval(() => void this.refresh().catch(retry('cannot renew the admin API TLS certificate; retrying')), this.opts.checkEveryMs ?? 10_000);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const rootCa = this.rootCa!;
    const roots = await rootCa.trustBundle();
    const active = await rootCa.activeFingerprint();
    const rootsKey = `${active} ${roots.join('')}`;
    if (rootsKey === this.rootsKey && Date.now() < this.renewAt) return;
    const { issued, rootPem } = await rootCa.issueGlobalCertificate(this.publicKeyPem, this.opts.hosts, this.opts.lifetimeMs ?? 24 * 3600_000);
    const first = this.context === undefined;
    this.context = { cert: issued.certPem + rootPem, key: this.keyPem };
    this.rootsKey = rootsKey;
    this.renewAt = Date.now() + msUntilRotation(issued.certPem);
    if (!first) for (const l of this.listeners) l(this.context);
    this.logger.info(
      { identity: issued.identity, notAfter: issued.notAfter.toISOString(), rootFingerprint: certificateFingerprint(rootPem), hosts: this.opts.hosts },
      'admin API TLS certificate issued',
    );
  }

  stop(): void {
    clearInterval(this.timer);
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
