// The command line of `meridian edge`, parsed into EdgeOptions. Every error
// names the flag.
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { readAdminToken } from '../lib/auth/local-admin-access';
import { parseHostPort } from '../lib/cli/addresses';
import { parseDuration } from '../lib/resources';
import { DEFAULT_LIMITS, HTTP2_MAX_CONCURRENT_STREAMS_RANGE, HTTP2_MAX_RESETS_PER_SECOND_RANGE, type ListenerLimits } from './listener/limits';
import type { Http1Engine } from './listener/http-listener';
import type { HostPort } from './listener/listeners';
import { DEFAULT_ACCESS_LOG_SAMPLE } from './observability/access-log';
import { otlpTracesUrl } from '../lib/tracing/otlp-exporter';
import type { ProxyMode } from './proxy';
import { DEFAULT_DRAIN_PERIOD_MS, DEFAULT_MAX_HOPS } from './gateway';
import { DEFAULT_CONNECTIONS_PER_INSTANCE } from './upstream/instance-pool';
import { ANYCAST_ARGS, ANYCAST_USAGE, parseAnycastOptions, type AnycastOptions } from './anycast/anycast-options';
import { MESH_ARGS, MESH_USAGE, parseMeshOptions, type MeshListenerOptions, type TcpListenerOptions } from './mesh/mesh-options';
import { parseRequestHandlingOptions, REQUEST_HANDLING_ARGS, REQUEST_HANDLING_USAGE, type RequestHandlingOptions } from './router/request-handling-options';

export const USAGE = `Usage: meridian edge (--config FILE | --zone HOST:PORT --region NAME) [options]

Runs an edge gateway (public listener) or, with --mode ingress, a zone ingress
(the receiving end of cross-region traffic).

Where the view comes from (one of):
  --config FILE               static mode: Service, TrafficRoute, ResiliencePolicy,
                              FailoverPolicy, Region and Instance documents (YAML/JSON);
                              SIGHUP reloads it
  --zone HOST:PORT            controlled mode: the zone controller's discovery stream
  --zone-token-file FILE      the region's proxy token (from 'meridian token create --proxy');
                              discovery then runs mTLS: the zone is checked against the root
                              the token names, the first leaf is asked for with the token,
                              and Watch/Report present the leaf (the zone's --proxy-token-file)

Identity:
  --mode edge|ingress         default edge
  --region NAME               this proxy's region (default 'local' in static mode)
  --name NAME                 this proxy's name, sent as x-meridian-edge (default: host name)

Listeners:
  --http HOST:PORT            plain HTTP/1.1, and HTTP/2 with prior knowledge (h2c: gRPC)
                              (default 127.0.0.1:8080 when no listener is given)
  --https HOST:PORT           TLS with SNI, HTTP/2 through ALPN and HTTP/1.1
  --cert FILE|DIR             certificate for --https (repeatable, paired in order with
                              --key; or one directory of NAME.crt + NAME.key)
  --key FILE                  private key of the --cert in the same position
  --redirect-http             the --http listener redirects (308) to --https
  --max-header-size BYTES     431 above this (default ${DEFAULT_LIMITS.maxHeaderBytes})
  --headers-timeout DURATION  time a client has to send its headers (default ${DEFAULT_LIMITS.headersTimeoutMs / 1000}s)
  --request-timeout DURATION  time a client has to send its whole request (default ${DEFAULT_LIMITS.requestTimeoutMs / 1000}s)
  --keep-alive-timeout DURATION  idle keep-alive connections close after it (default ${DEFAULT_LIMITS.keepAliveTimeoutMs / 1000}s)
  --http2-max-concurrent-streams N  streams an HTTP/2 client may have open at once, advertised in
                              SETTINGS (${HTTP2_MAX_CONCURRENT_STREAMS_RANGE.min}..${HTTP2_MAX_CONCURRENT_STREAMS_RANGE.max}, default ${DEFAULT_LIMITS.http2MaxConcurrentStreams})
  --http2-max-resets-per-second N  an HTTP/2 connection whose client resets more than N streams
                              within a second before their answer started gets a GOAWAY
                              (ENHANCE_YOUR_CALM) and is closed: rapid reset, CVE-2023-44487
                              (${HTTP2_MAX_RESETS_PER_SECOND_RANGE.min}..${HTTP2_MAX_RESETS_PER_SECOND_RANGE.max}, default ${DEFAULT_LIMITS.http2MaxResetsPerSecond}; an
                              ingress ${HTTP2_MAX_RESETS_PER_SECOND_RANGE.max}: its callers are mesh proxies whose shared
                              connections carry the cancellations of many clients)
  Upgrades: only WebSocket is forwarded; 'Upgrade: h2c' is ignored (served as HTTP/1.1),
  any other Upgrade protocol is answered 400.

Mesh TLS:
  In controlled mode (--zone) the proxy makes its own key (kept in memory) and gets a
  leaf certificate spiffe://<trust-domain>/region/<region>/<mode>/<name> from the zone
  controller at start, renewed at two thirds of its life. An edge speaks mTLS + HTTP/2
  to remote ingresses with it. An ingress serves it on --https (no --cert needed), asks
  every client for a certificate and answers 403 with the reason to a caller without
  one, with one not issued by this mesh, an expired one, or an identity no
  TrafficPermission allows (docs/identity.md). --name must then be a DNS label.
  Static mode (or controlled mode with these given instead):
  --tls-cert FILE --tls-key FILE --tls-ca FILE
                              ingress: the --https listener's certificate and the CA that
                              client certificates are checked against; edge: the client
                              certificate for remote ingresses (TLS + HTTP/2 to them)
  --require-client-cert       ingress: refuse clients without a valid certificate

Operation:
  --admin HOST:PORT           /metrics, /healthz, /v1/view (the view: callers on this host, or
                              the bearer of --admin-token-file's token)
  --admin-token-file FILE     a token (one line, 16+ characters) that lets other hosts read /v1/view
                              (Authorization: Bearer <token>)
  --drain-period DURATION     on SIGTERM, time for requests in flight to finish (default ${DEFAULT_DRAIN_PERIOD_MS / 1000}s)
  --max-hops N                an edge refuses (508) requests that passed N gateways (default ${DEFAULT_MAX_HOPS})
  --access-log-sample RATIO   share of requests logged, 0..1 (default ${DEFAULT_ACCESS_LOG_SAMPLE}); each logged
                              request's line is its span (trace_id, span_id, parent_span_id)
  --otlp-endpoint URL         also send those spans to an OTLP/HTTP collector (JSON, URL/v1/traces)
  --connections-per-instance N  most connections to one instance (default ${DEFAULT_CONNECTIONS_PER_INSTANCE})
  --http1-engine fast|node    the plain HTTP/1.1 path: fast (default: connection-level parsing with
                              node's llhttp, raw keep-alive sockets to instances) or node
                              (node:http and undici, the path before it)
  --workers N|auto            worker processes sharing the listeners (default 1: no cluster;
                              0 or auto: one per core)
${MESH_USAGE}${REQUEST_HANDLING_USAGE}${ANYCAST_USAGE}`;

export class OptionsError extends Error {}

export interface EdgeOptions {
  mode: ProxyMode;
  config?: string;
  zone?: string;
  zoneTokenFile?: string;
  region: string;
  name: string;
  http?: HostPort;
  https?: HostPort;
  certs: string[];
  keys: string[];
  redirectHttp: boolean;
  limits: ListenerLimits;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  requireClientCert: boolean;
  admin?: HostPort;
  // sha256 of --admin-token-file's token: /v1/view for callers off this host.
  adminTokenDigest?: Buffer;
  drainPeriodMs: number;
  maxHops: number;
  accessLogSample: number;
  otlpEndpoint: string | undefined;
  connectionsPerInstance: number;
  http1Engine: Http1Engine;
  workers: number;
  // --bird-socket and friends: announce the anycast address while healthy.
  anycast?: AnycastOptions;
  // --mesh-http and friends: the listener of the region's workloads.
  mesh?: MeshListenerOptions;
  tcp: TcpListenerOptions;
  // --trusted-proxies, --access-log-query.
  requestHandling: RequestHandlingOptions;
  help: boolean;
}

function duration(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value);
  } catch {
    throw new OptionsError(`${flag}: expected a duration such as 500ms, 10s or 1m, got '${value}'`);
  }
}

function integer(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new OptionsError(`${flag}: expected an integer of at least ${min}, got '${value}'`);
  return n;
}

function bounded(value: string | undefined, flag: string, fallback: number, range: { min: number; max: number }): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new OptionsError(`${flag}: expected an integer from ${range.min} to ${range.max}, got '${value}'`);
  }
  return n;
}

function hostPort(value: string | undefined, flag: string): HostPort | undefined {
  if (value === undefined) return undefined;
  try {
    return parseHostPort(value, flag);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
}

export function parseEdgeOptions(argv: string[]): EdgeOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mode: { type: 'string' },
        config: { type: 'string' },
        zone: { type: 'string' },
        'zone-token-file': { type: 'string' },
        region: { type: 'string' },
        name: { type: 'string' },
        http: { type: 'string' },
        https: { type: 'string' },
        cert: { type: 'string', multiple: true },
        key: { type: 'string', multiple: true },
        'redirect-http': { type: 'boolean' },
        'max-header-size': { type: 'string' },
        'headers-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'keep-alive-timeout': { type: 'string' },
        'http2-max-concurrent-streams': { type: 'string' },
        'http2-max-resets-per-second': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        'require-client-cert': { type: 'boolean' },
        admin: { type: 'string' },
        'admin-token-file': { type: 'string' },
        'drain-period': { type: 'string' },
        'max-hops': { type: 'string' },
        'access-log-sample': { type: 'string' },
        'otlp-endpoint': { type: 'string' },
        'connections-per-instance': { type: 'string' },
        'http1-engine': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...ANYCAST_ARGS,
        ...MESH_ARGS,
        ...REQUEST_HANDLING_ARGS,
      },
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message.split('. ')[0]);
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(values[k]) ? (values[k] as string[]) : []);
  const help = values.help === true;

  const mode = str('mode') ?? 'edge';
  if (mode !== 'edge' && mode !== 'ingress') throw new OptionsError(`--mode: expected edge or ingress, got '${mode}'`);
  const config = str('config');
  const zone = str('zone');
  if (!help) {
    if (config === undefined && zone === undefined) throw new OptionsError('give --config FILE (static mode) or --zone HOST:PORT (controlled mode)');
    if (config !== undefined && zone !== undefined) throw new OptionsError('--config and --zone exclude each other');
    if (str('zone-token-file') !== undefined && zone === undefined) throw new OptionsError('--zone-token-file goes with --zone');
  }
  if (zone !== undefined) hostPort(zone, '--zone');
  const region = str('region') ?? (zone !== undefined && !help ? undefined : 'local');
  if (region === undefined) throw new OptionsError('--region is required with --zone');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(region)) throw new OptionsError(`--region: '${region}' is not a region name (a DNS label)`);

  let http = hostPort(str('http'), '--http');
  const https = hostPort(str('https'), '--https');
  if (http === undefined && https === undefined) http = { host: '127.0.0.1', port: 8080 };

  const sampleRaw = str('access-log-sample');
  const accessLogSample = sampleRaw === undefined ? DEFAULT_ACCESS_LOG_SAMPLE : Number(sampleRaw);
  if (!Number.isFinite(accessLogSample) || accessLogSample < 0 || accessLogSample > 1) {
    throw new OptionsError(`--access-log-sample: expected a number from 0 to 1, got '${sampleRaw}'`);
  }
  const otlpEndpoint = str('otlp-endpoint');
  if (otlpEndpoint !== undefined) {
    try {
      otlpTracesUrl(otlpEndpoint);
    } catch (err) {
      throw new OptionsError(`--otlp-endpoint: ${(err as Error).message}`);
    }
  }

  const workersRaw = str('workers') ?? '1';
  let workers: number;
  if (workersRaw === 'auto' || workersRaw === '0') workers = os.availableParallelism();
  else workers = integer(workersRaw, '--workers', 1, 1);

  const tlsCert = str('tls-cert');
  const tlsKey = str('tls-key');
  const tlsCa = str('tls-ca');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new OptionsError('--tls-cert and --tls-key go together');
  if (values['require-client-cert'] === true && tlsCa === undefined) throw new OptionsError('--require-client-cert needs --tls-ca');
  if (mode === 'edge' && tlsCa !== undefined && tlsCert === undefined) throw new OptionsError('--tls-ca on an edge needs --tls-cert and --tls-key (the client certificate for remote ingresses)');

  const certs = list('cert');
  const keys = list('key');
  if (https !== undefined && certs.length === 0 && !(mode === 'ingress' && (tlsCert !== undefined || zone !== undefined))) {
    throw new OptionsError('--https needs a certificate: --cert FILE --key FILE (or --cert DIR)');
  }
  if (values['redirect-http'] === true && (https === undefined || str('http') === undefined)) {
    throw new OptionsError('--redirect-http needs both --http and --https');
  }

  const anycast = parseAnycastOptions(values, (m) => new OptionsError(m));
  const requestHandling = parseRequestHandlingOptions(values, (m) => new OptionsError(m));
  const { mesh, tcp } = parseMeshOptions(values, mode, (m) => new OptionsError(m));
  if (mesh?.https !== undefined && zone === undefined) throw new OptionsError('--mesh-https needs controlled mode (--zone): it serves the mesh leaf the zone issues');
  if (anycast !== undefined && mode !== 'edge') throw new OptionsError('--bird-socket: only an edge announces the anycast address');
  if (anycast !== undefined && workers > 1) throw new OptionsError('--bird-socket needs --workers 1: one process drives BIRD');

  const headersTimeoutMs = duration(str('headers-timeout'), '--headers-timeout', DEFAULT_LIMITS.headersTimeoutMs);
  return {
    mode,
    config,
    zone,
    zoneTokenFile: str('zone-token-file'),
    region,
    name: str('name') ?? os.hostname(),
    http,
    https,
    certs,
    keys,
    redirectHttp: values['redirect-http'] === true,
    limits: {
      maxHeaderBytes: integer(str('max-header-size'), '--max-header-size', DEFAULT_LIMITS.maxHeaderBytes, 1024),
      headersTimeoutMs,
      requestTimeoutMs: duration(str('request-timeout'), '--request-timeout', Math.max(DEFAULT_LIMITS.requestTimeoutMs, headersTimeoutMs)),
      keepAliveTimeoutMs: duration(str('keep-alive-timeout'), '--keep-alive-timeout', DEFAULT_LIMITS.keepAliveTimeoutMs),
      http2MaxConcurrentStreams: bounded(
        str('http2-max-concurrent-streams'),
        '--http2-max-concurrent-streams',
        DEFAULT_LIMITS.http2MaxConcurrentStreams,
        HTTP2_MAX_CONCURRENT_STREAMS_RANGE,
      ),
      http2MaxResetsPerSecond: bounded(
        str('http2-max-resets-per-second'),
        '--http2-max-resets-per-second',
        mode === 'ingress' ? HTTP2_MAX_RESETS_PER_SECOND_RANGE.max : DEFAULT_LIMITS.http2MaxResetsPerSecond,
        HTTP2_MAX_RESETS_PER_SECOND_RANGE,
      ),
    },
    tlsCert,
    tlsKey,
    tlsCa,
    requireClientCert: values['require-client-cert'] === true,
    admin: hostPort(str('admin'), '--admin'),
    adminTokenDigest: adminToken(str('admin-token-file'), str('admin')),
    drainPeriodMs: duration(str('drain-period'), '--drain-period', DEFAULT_DRAIN_PERIOD_MS),
    maxHops: integer(str('max-hops'), '--max-hops', DEFAULT_MAX_HOPS, 1),
    accessLogSample,
    otlpEndpoint,
    connectionsPerInstance: integer(str('connections-per-instance'), '--connections-per-instance', DEFAULT_CONNECTIONS_PER_INSTANCE, 1),
    http1Engine: http1Engine(str('http1-engine')),
    workers,
    anycast,
    mesh,
    tcp,
    requestHandling,
    help,
  };
}

function http1Engine(value: string | undefined): Http1Engine {
  if (value === undefined) return 'fast';
  if (value !== 'fast' && value !== 'node') throw new OptionsError(`--http1-engine: expected fast or node, got '${value}'`);
  return value;
}

function adminToken(file: string | undefined, admin: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  if (admin === undefined) throw new OptionsError('--admin-token-file goes with --admin');
  try {
    return readAdminToken(file, '--admin-token-file');
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
}
