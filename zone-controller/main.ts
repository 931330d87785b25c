// `meridian zone-controller`: runs one region's zone controller until SIGINT/SIGTERM.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseHostPort } from '../lib/cli/addresses';
import { isLoopbackHost } from '../lib/net/loopback';
import { parseDuration } from '../lib/resources';
import { isIP } from 'node:net';
import { ZoneController, type ZoneControllerOptions } from './zone-controller';
import { readProxyToken } from '../lib/auth/proxy-token';
import { checkToken } from '../lib/auth/token-rule';
import { loadStateKey, stateKeySource } from '../lib/pki';
import { installFatalErrorHandlers } from '../lib/process/fatal-errors';
import { DEFAULT_REGISTRY_CAPS, type RegistryCaps } from './registry/registry-caps';

const USAGE = `usage: meridian zone-controller --region NAME --global HOST:PORT --join-token TOKEN [options]

  --region NAME            the region this zone controller serves
  --global HOST:PORT       the global controller's federation address (default 127.0.0.1:7400)
  --join-token TOKEN       from 'meridian token create --region NAME' (or MERIDIAN_JOIN_TOKEN,
                           or --join-token-file FILE); good for one join: it buys the zone CA,
                           kept in --state-dir, with which the zone comes back over mTLS
  --http HOST:PORT         instance registry API, /healthz, /metrics (default 127.0.0.1:7500);
                           /v1/state answers callers on this host only
  --grpc HOST:PORT         discovery for the region's edges and ingresses (default 127.0.0.1:7501)
  --dns HOST:PORT          DNS for *.mesh, UDP and TCP (default 127.0.0.1:5353): the addresses of
                           the mesh listeners the region's edges report (TTL 5 s)
  --ingress HOST:PORT      this region's zone ingress address, as advertised (default 127.0.0.1:7600)
  --state-dir DIR          where the last global snapshot and the instances are kept (no private
                           key is written there in the clear: Certificate keys stay in memory and
                           come again from the global controller after a restart)
  --state-key-file FILE    seals the zone CA key and the WireGuard key kept in --state-dir: 32 or
                           more random bytes, mode 0600, outside --state-dir (e.g. head -c 32
                           /dev/urandom | base64 > /etc/meridian/state.key). Without the flag, read
                           from $CREDENTIALS_DIRECTORY/meridian-state-key when systemd provides it
                           (LoadCredential=meridian-state-key:FILE). Without a state key those keys
                           are kept in memory only: a restart then needs a new join token, and
                           brings a new WireGuard key
  --proxy-token-file FILE  the region's proxy bootstrap token (mpt1.<secret>.<root sha256>, make one
                           with 'meridian token create --proxy --region NAME'): the discovery port then
                           runs mTLS, proxies get their first leaf with the token and every stream
                           needs that leaf; Certificate resources reach the edges only this way.
                           Without it discovery is plaintext and --grpc must be on loopback
  --leaf-lifetime DURATION life of the leaf certificates signed for the region's edges and
                           ingresses (default 24h; they renew at two thirds of it)

Instance registry caps (over a cap: 413 or 429 naming it, nothing stored):
  --registry-max-instances N             instances in this zone (default 10000)
  --registry-max-instances-per-service N instances of one service in this zone (default 1000)
  --registry-max-labels N                labels of one instance (default 32)
  --registry-max-label-bytes N           UTF-8 bytes of one instance's label keys and values
                                         together (default 4096)
  --registry-max-label-key-bytes N       bytes of one label key (default 63)
  --registry-max-label-value-bytes N     bytes of one label value (default 256)
  --registry-rate N                      registry API requests per second per instance token (and
                                         for the loopback caller), a token bucket (default 50)
  --registry-burst N                     that bucket's size (default 100)

WireGuard backhaul (optional; all of --tunnel-interface, --tunnel-address, --tunnel-endpoint):
  --tunnel-interface NAME  interface name, unique on the host (wireguard-go shares /var/run/wireguard)
  --tunnel-address IP      this region's address in the tunnel range
  --tunnel-endpoint H:P    underlay address and port other regions send WireGuard to
  --tunnel-listen-port P   UDP port to listen on (default: the endpoint's port)
`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      region: { type: 'string' },
      global: { type: 'string', default: '127.0.0.1:7400' },
      'join-token': { type: 'string' },
      'join-token-file': { type: 'string' },
      http: { type: 'string', default: '127.0.0.1:7500' },
      grpc: { type: 'string', default: '127.0.0.1:7501' },
      dns: { type: 'string', default: '127.0.0.1:5353' },
      ingress: { type: 'string', default: '127.0.0.1:7600' },
      'state-dir': { type: 'string' },
      'state-key-file': { type: 'string' },
      'proxy-token-file': { type: 'string' },
      'leaf-lifetime': { type: 'string', default: '24h' },
      'registry-max-instances': { type: 'string' },
      'registry-max-instances-per-service': { type: 'string' },
      'registry-max-labels': { type: 'string' },
      'registry-max-label-bytes': { type: 'string' },
      'registry-max-label-key-bytes': { type: 'string' },
      'registry-max-label-value-bytes': { type: 'string' },
      'registry-rate': { type: 'string' },
      'registry-burst': { type: 'string' },
      'tunnel-interface': { type: 'string' },
      'tunnel-address': { type: 'string' },
      'tunnel-endpoint': { type: 'string' },
      'tunnel-listen-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(USAGE);
  if (!values.region) throw new Error('--region is required');
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.region)) throw new Error(`--region: '${values.region}' is not a region name`);
  const joinToken =
    values['join-token'] ?? (values['join-token-file'] ? fs.readFileSync(values['join-token-file'], 'utf8').trim() : process.env.MERIDIAN_JOIN_TOKEN);
  if (!joinToken) throw new Error('a join token is required: --join-token, --join-token-file or MERIDIAN_JOIN_TOKEN');
  checkToken(joinToken, values['join-token'] !== undefined ? '--join-token' : values['join-token-file'] ? `--join-token-file ${values['join-token-file']}` : 'MERIDIAN_JOIN_TOKEN');
  if (!values['state-dir']) throw new Error('--state-dir is required');
  const keySource = stateKeySource(values['state-key-file']);
  if (keySource && !path.relative(path.resolve(values['state-dir']), path.resolve(keySource.file)).startsWith('..')) {
    throw new Error(`--state-key-file: ${keySource.file} is inside --state-dir ${values['state-dir']}; keep the state key apart from the state it seals`);
  }
  const stateKey = keySource ? loadStateKey(keySource.file) : undefined;
  parseHostPort(values.global!, '--global');
  const grpc = parseHostPort(values.grpc!, '--grpc');
  // Without the proxy token discovery is plaintext and hands a region leaf to
  // any caller: only for proxies on this host.
  if (!values['proxy-token-file'] && !isLoopbackHost(grpc.host)) {
    throw new Error(`--grpc ${values.grpc}: discovery off loopback needs --proxy-token-file FILE (mTLS, and leaves only for holders of the region's proxy token: meridian token create --proxy --region ${values.region}); without it, listen on 127.0.0.1`);
  }
  parseHostPort(values.ingress!, '--ingress');
  const tunnelFlags = [values['tunnel-interface'], values['tunnel-address'], values['tunnel-endpoint']];
  if (tunnelFlags.some(Boolean) && !tunnelFlags.every(Boolean)) {
    throw new Error('the tunnel needs all of --tunnel-interface, --tunnel-address and --tunnel-endpoint');
  }
  let tunnel: ZoneControllerOptions['tunnel'];
  if (values['tunnel-interface']) {
    if (isIP(values['tunnel-address']!) !== 4) throw new Error(`--tunnel-address: '${values['tunnel-address']}' is not an IPv4 address`);
    const endpoint = parseHostPort(values['tunnel-endpoint']!, '--tunnel-endpoint');
    const listenPort = values['tunnel-listen-port'] ? Number(values['tunnel-listen-port']) : endpoint.port;
    if (!Number.isInteger(listenPort) || listenPort < 1 || listenPort > 65535) throw new Error('--tunnel-listen-port: must be a port number');
    tunnel = { interfaceName: values['tunnel-interface'], address: values['tunnel-address']!, endpoint: values['tunnel-endpoint']!, listenPort };
  }
  const zone = new ZoneController({
    region: values.region,
    globalAddress: values.global!,
    joinToken,
    http: parseHostPort(values.http!, '--http'),
    grpcAddress: values.grpc!,
    dns: parseHostPort(values.dns!, '--dns'),
    stateDir: values['state-dir'],
    ingressAddress: values.ingress!,
    proxyToken: values['proxy-token-file'] ? readProxyToken(values['proxy-token-file'], '--proxy-token-file') : undefined,
    tunnel,
    leafLifetimeMs: leafLifetime(values['leaf-lifetime']!),
    stateKey,
    registryCaps: registryCaps(values),
  });
  installFatalErrorHandlers({ logger: zone.logger, registry: zone.metrics });
  if (keySource) zone.logger.info({ from: keySource.from, file: keySource.file }, 'the zone CA and WireGuard keys are sealed with the state key');
  else zone.logger.warn('no state key (--state-key-file): the zone CA and WireGuard keys are kept in memory only; a restart needs a new join token and brings a new WireGuard key');
  // A start that fails (a saved key that does not open) closes what it
  // opened, so the process exits with the reason rather than half serving.
  await zone.start().catch(async (err: unknown) => {
    await zone.stop().catch(() => undefined);
    throw err;
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    zone.logger.info({ signal }, 'stopping');
    zone.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

// Each cap from its flag, or its default. The upper bounds keep a zone's view
// within what the discovery stream's parts and a proxy's memory are sized for.
function registryCaps(values: Record<string, string | boolean | undefined>): RegistryCaps {
  const cap = (flag: string, fallback: number, max: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < 1 || n > max) throw new Error(`--${flag}: expected an integer from 1 to ${max}, got '${String(raw)}'`);
    return n;
  };
  const d = DEFAULT_REGISTRY_CAPS;
  return {
    maxInstances: cap('registry-max-instances', d.maxInstances, 1_000_000),
    maxInstancesPerService: cap('registry-max-instances-per-service', d.maxInstancesPerService, 1_000_000),
    maxLabels: cap('registry-max-labels', d.maxLabels, 1024),
    maxLabelBytes: cap('registry-max-label-bytes', d.maxLabelBytes, 60 * 1024),
    maxLabelKeyBytes: cap('registry-max-label-key-bytes', d.maxLabelKeyBytes, 1024),
    maxLabelValueBytes: cap('registry-max-label-value-bytes', d.maxLabelValueBytes, 60 * 1024),
    ratePerSecond: cap('registry-rate', d.ratePerSecond, 1_000_000),
    rateBurst: cap('registry-burst', d.rateBurst, 1_000_000),
  };
}

// At least 3 s: a leaf is renewed at two thirds of its life, and the proxy
// needs a moment to ask.
function leafLifetime(value: string): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new Error(`--leaf-lifetime: expected a duration such as 24h, 90m or 6s, got '${value}'`);
  }
  if (ms < 3_000) throw new Error(`--leaf-lifetime: at least 3s, got '${value}'`);
  return ms;
}
