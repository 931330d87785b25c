// `meridian edge`: bin/meridian dispatches here through cli/main.ts. Parses
// the command line, validates a static config before anything starts (an
// invalid file is refused with every document and field named), then runs
// one gateway in this process, or with --workers N a cluster primary that
// forks N workers which each run one.
import cluster from 'node:cluster';
import * as fs from 'node:fs';
import { createLogger } from '../lib/observability/logger';
import { createRegistry } from '../lib/observability/metrics';
import { installFatalErrorHandlers } from '../lib/process/fatal-errors';
import { OtlpExporter } from '../lib/tracing/otlp-exporter';
import { ConfigError } from './config/config-error';
import { DiscoverySource } from './config/discovery-source';
import type { ViewSource } from './config/edge-view';
import { loadStaticConfig, StaticSource, type StaticConfig } from './config/static-source';
import { EdgeGateway } from './gateway';
import { attachAddons } from './edge-addons';
import { loadCertificatePairs, type CertificatePair, type ClientAuth } from './listener/secure-contexts';
import { ServedCertificates } from './listener/served-certificates';
import { ZoneTls } from './config/zone-tls';
import { readProxyToken } from '../lib/auth/proxy-token';
import { runPrimary, serveWorker, serveWorkerMetrics } from './lifecycle/cluster';
import { installSignalHandlers } from './lifecycle/signals';
import { OptionsError, parseEdgeOptions, USAGE, type EdgeOptions } from './options';
import type { MeshTlsFiles } from './upstream/remote-ingress-pool';
import { startMeshIdentity } from './identity/start-mesh-identity';
import type { MeshIdentity } from './identity/mesh-identity';

export { EdgeGateway } from './gateway';

export async function main(argv: string[]): Promise<void> {
  let options: EdgeOptions;
  try {
    options = parseEdgeOptions(argv);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`error: ${err.message} (run 'meridian edge --help' for usage)\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }

  let preloaded: StaticConfig | undefined;
  if (options.config !== undefined) {
    try {
      preloaded = loadStaticConfig(options.config, options.region);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.lines) process.stderr.write(`error: ${line}\n`);
      process.exitCode = 2;
      return;
    }
  }

  if (options.workers > 1 && cluster.isPrimary) {
    const primaryLogger = createLogger('edge', { name: options.name, role: 'primary' });
    installFatalErrorHandlers({ logger: primaryLogger });
    await runPrimary(options, primaryLogger);
    return;
  }

  const worker = cluster.isWorker;
  const logger = createLogger('edge', { name: options.name, region: options.region, mode: options.mode, ...(worker ? { worker: cluster.worker?.id } : {}) });
  // part: edge or ingress, so that a request relayed through an ingress is not counted twice.
  const registry = createRegistry(options.mode, true, { zone: options.region });
  installFatalErrorHandlers({ logger, registry });
  if (worker) serveWorkerMetrics(registry);
  let zoneTls: ZoneTls | undefined;
  try {
    // mTLS to the zone: the root pinned by the proxy token, then the proxy's leaf.
    if (options.zoneTokenFile) zoneTls = await ZoneTls.connect(options.zone!, options.region, readProxyToken(options.zoneTokenFile, '--zone-token-file'), logger);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const source: ViewSource =
    options.config !== undefined
      ? new StaticSource(options.config, options.region, logger, preloaded)
      : new DiscoverySource({ address: options.zone!, region: options.region, proxy: options.name, mode: options.mode, credentials: zoneTls?.streamCredentials() }, logger);

  let meshIdentity: MeshIdentity | undefined;
  try {
    meshIdentity = await startMeshIdentity(options, logger, zoneTls?.certificateCalls);
    if (zoneTls) {
      if (!meshIdentity?.current) throw new Error('--zone-token-file: the discovery stream needs the leaf the zone issues (not --tls-cert files)');
      const tls = zoneTls;
      const toLeaf = (c: { chainPem: string; keyPem: string; trustBundle: string[] }) => tls.setLeaf(c);
      toLeaf(meshIdentity.current);
      meshIdentity.on('renewed', toLeaf);
    }
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 2;
    await source.stop();
    return;
  }

  const gateway = new EdgeGateway({
    mode: options.mode,
    name: options.name,
    region: options.region,
    source,
    http: options.http,
    https: options.https,
    redirectHttp: options.redirectHttp,
    certificates: certificates(options),
    clientAuth: clientAuth(options),
    meshTls: meshTls(options),
    meshIdentity,
    limits: options.limits,
    mesh: options.mesh,
    tcp: options.tcp,
    // In a cluster the primary serves the admin API.
    admin: worker ? undefined : options.admin,
    adminTokenDigest: options.adminTokenDigest,
    drainPeriodMs: options.drainPeriodMs,
    maxHops: options.maxHops,
    accessLogSample: options.accessLogSample,
    accessLogQuery: options.requestHandling.accessLogQuery,
    trustedProxies: options.requestHandling.trustedProxies,
    otlp: options.otlpEndpoint === undefined ? undefined : new OtlpExporter({
      endpoint: options.otlpEndpoint,
      serviceName: `meridian-${options.mode}`,
      resource: { 'service.instance.id': options.name, 'meridian.zone': options.region },
      onError: (message) => logger.warn(message),
    }),
    connectionsPerInstance: options.connectionsPerInstance,
    http1Engine: options.http1Engine,
    registry,
    logger,
  });
  // --cert files re-read on change, Certificate resources of the view by SNI.
  if (gateway.contexts && options.certs.length > 0) {
    const files = { certs: options.certs, keys: options.keys };
    gateway.addObserver(new ServedCertificates({ contexts: gateway.contexts, paths: [...files.certs, ...files.keys], loadFiles: () => loadCertificatePairs(files.certs, files.keys), logger }));
  }
  // Workers of a cluster neither drive BIRD (refused by the options) nor report.
  const addons = attachAddons(gateway, source, { mode: options.mode, name: options.name, zone: worker ? undefined : options.zone, zoneCredentials: zoneTls?.streamCredentials(), anycast: options.anycast }, logger);
  await gateway.start();
  addons.start();
  installSignalHandlers(gateway, {
    reload: source instanceof StaticSource ? () => source.reload() : undefined,
  });
  if (worker) serveWorker(gateway);
}

function certificates(o: EdgeOptions): CertificatePair[] | undefined {
  if (o.certs.length > 0) return loadCertificatePairs(o.certs, o.keys);
  if (o.mode === 'ingress' && o.https && o.tlsCert && o.tlsKey) {
    return [{ cert: fs.readFileSync(o.tlsCert), key: fs.readFileSync(o.tlsKey), source: o.tlsCert }];
  }
  return undefined;
}

function clientAuth(o: EdgeOptions): ClientAuth | undefined {
  if (o.mode !== 'ingress' || o.tlsCa === undefined) return undefined;
  return { ca: fs.readFileSync(o.tlsCa), required: o.requireClientCert };
}

function meshTls(o: EdgeOptions): MeshTlsFiles | undefined {
  if (o.mode !== 'edge' || !o.tlsCert || !o.tlsKey || !o.tlsCa) return undefined;
  return { cert: o.tlsCert, key: o.tlsKey, ca: o.tlsCa };
}
