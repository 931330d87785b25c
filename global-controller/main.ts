// `meridian global-controller`: runs one replica until SIGINT/SIGTERM.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadDataKey } from '../lib/pki';
import { parseHostPort } from '../lib/cli/addresses';
import { isLoopbackHost } from '../lib/net/loopback';
import { parseDuration } from '../lib/resources';
import { ApiTokens } from './auth/api-tokens';
import { GlobalController } from './global-controller';
import { installFatalErrorHandlers } from '../lib/process/fatal-errors';
import { parseApplyBodyLimit } from './api/apply-limits';

const USAGE = `usage: meridian global-controller [options]

  --etcd URLS              etcd endpoints, comma-separated (default http://127.0.0.1:2379)
  --grpc HOST:PORT         federation gRPC listener, TLS only (default 127.0.0.1:7400); its
                           certificate is spiffe://<trust-domain>/region/global/global/controller
                           from the mesh root; zones check that identity, not host names
  --tls-san NAMES          extra host names/addresses for that certificate and the admin API's
                           issued one (--https), comma-separated
  --https HOST:PORT        admin API, dashboard, /metrics and /healthz over HTTPS, for the network
  --https-cert FILE        its certificate (PEM, chain after it); with --https-key. Without them
  --https-key FILE         the certificate is issued from the mesh root for the --https host,
                           localhost and --tls-san names, kept in memory, renewed before expiry;
                           clients pin the root: meridian --ca-fingerprint sha256:<hex> (GET /v1/ca)
  --http HOST:PORT         the same in plaintext, on loopback only (127.0.0.1, ::1, localhost);
                           default 127.0.0.1:7401 without --https, none with it unless given
  --tokens-file FILE       admin API tokens, one 'ROLE TOKEN' per line (admin|read), # comments;
                           MERIDIAN_ADMIN_TOKEN and MERIDIAN_READ_TOKEN are read too
  --replica NAME           this replica's name (default HOST-PID)
  --heartbeat-interval D   zone heartbeat interval; three missed mark a zone offline (default 1s)
  --apply-body-limit SIZE  the largest POST /v1/apply body, from 16KiB to 4MiB (default 1MiB);
                           one apply also holds at most 128 resources in 1000 YAML documents

Mesh CA:
  --data-key-file FILE     required: the key that seals the root CA's and Certificate resources'
                           private keys in etcd (32+ random bytes, mode 0600); make one with
                           umask 077; head -c 32 /dev/urandom | base64 > data.key
                           Every replica needs the same key.
  --trust-domain NAME      the SPIFFE trust domain (default meridian.local)
  --root-ca-cert FILE      on first start, import this root instead of creating one
  --root-ca-key FILE       its private key (sealed into etcd, never stored in the clear)
`;

const MISSING_DATA_KEY =
  '--data-key-file FILE is required: it seals the mesh CA and certificate keys in etcd; make one with: umask 077; head -c 32 /dev/urandom | base64 > data.key';

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      etcd: { type: 'string', default: 'http://127.0.0.1:2379' },
      grpc: { type: 'string', default: '127.0.0.1:7400' },
      'tls-san': { type: 'string' },
      http: { type: 'string' },
      https: { type: 'string' },
      'https-cert': { type: 'string' },
      'https-key': { type: 'string' },
      'tokens-file': { type: 'string' },
      replica: { type: 'string' },
      'heartbeat-interval': { type: 'string', default: '1s' },
      'apply-body-limit': { type: 'string', default: '1MiB' },
      'data-key-file': { type: 'string' },
      'trust-domain': { type: 'string', default: 'meridian.local' },
      'root-ca-cert': { type: 'string' },
      'root-ca-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const https = values.https === undefined ? undefined : parseHostPort(values.https, '--https');
  const httpAddress = values.http ?? (https ? undefined : '127.0.0.1:7401');
  const http = httpAddress === undefined ? undefined : parseHostPort(httpAddress, '--http');
  // No --insecure-http escape: the bearer token must not cross a network in
  // clear, and whoever needs plaintext (a TLS proxy, a health check) can sit
  // on the host, or use --https with their own certificate files.
  if (http && !isLoopbackHost(http.host)) {
    throw new Error(`--http ${httpAddress}: plaintext admin API only on loopback (127.0.0.1, ::1, localhost), the bearer token would cross the network in clear; serve the network with --https ${httpAddress} (a certificate from the mesh root, or --https-cert/--https-key)`);
  }
  if (!!values['https-cert'] !== !!values['https-key']) throw new Error('--https-cert and --https-key go together');
  if (values['https-cert'] && !https) throw new Error('--https-cert and --https-key need --https HOST:PORT');
  parseHostPort(values.grpc!, '--grpc');
  const bodyLimitBytes = parseApplyBodyLimit(values['apply-body-limit']!);
  const tokens = ApiTokens.fromSources({ file: values['tokens-file'], env: process.env });
  if (tokens.size === 0) throw new Error('no admin API tokens: give --tokens-file FILE or set MERIDIAN_ADMIN_TOKEN');
  if (!!values['root-ca-cert'] !== !!values['root-ca-key']) throw new Error('--root-ca-cert and --root-ca-key go together');
  if (!values['data-key-file']) throw new Error(MISSING_DATA_KEY);
  const dataKey = loadDataKey(values['data-key-file']);
  const importRoot = values['root-ca-cert']
    ? { certPem: fs.readFileSync(values['root-ca-cert'], 'utf8'), keyPem: fs.readFileSync(values['root-ca-key']!, 'utf8') }
    : undefined;
  const controller = new GlobalController({
    etcdEndpoints: values.etcd!.split(',').map((s) => s.trim()).filter(Boolean),
    grpcAddress: values.grpc!,
    httpHost: http?.host,
    httpPort: http?.port,
    https: https && { ...https, files: values['https-cert'] ? { certFile: values['https-cert'], keyFile: values['https-key']! } : undefined },
    tokens,
    replica: values.replica,
    heartbeatIntervalMs: parseDuration(values['heartbeat-interval']!),
    bodyLimitBytes,
    dataKey,
    tlsHosts: (values['tls-san'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    importRoot,
    trustDomain: values['trust-domain'],
  });
  installFatalErrorHandlers({ logger: controller.logger, registry: controller.metrics });
  try {
    await controller.start();
  } catch (err) {
    // Close what did start, so the process ends with the error.
    await controller.stop().catch(() => undefined);
    setTimeout(() => process.exit(1), 2000).unref();
    throw err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    controller.logger.info({ signal }, 'stopping');
    controller.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
