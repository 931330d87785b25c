// The mesh listener flags of `meridian edge`: where the region's own
// workloads reach `<service>.mesh` (plain HTTP and h2c, and TLS with a
// workload certificate), which addresses the zone DNS gives out for it, and
// the bounds of the TCP listeners. Parsed here so edge/options.ts only merges them.
import { isIP } from 'node:net';
import { parseHostPort } from '../../lib/cli/addresses';
import { MAX_MESH_ADDRESSES } from '../../lib/net/mesh-addresses';
import type { HostPort } from '../listener/listeners';

export interface MeshListenerOptions {
  // Plain HTTP/1.1 and h2c; TCP services listen on this host too.
  http?: HostPort;
  // TLS; a workload may present its certificate (TrafficPermission by service).
  https?: HostPort;
  // What the zone DNS answers for <service>.mesh (A and AAAA).
  advertise: string[];
}

export interface TcpListenerOptions {
  // Connections open at once on one TCP listener; more are refused.
  maxConnections: number;
  // Where the public TCP listeners bind (default: the --http host, else --https).
  host?: string;
}

export const TCP_MAX_CONNECTIONS_RANGE = { min: 1, max: 1_000_000 } as const;
export const DEFAULT_TCP_MAX_CONNECTIONS = 10_000;

export const MESH_ARGS = {
  'mesh-http': { type: 'string' },
  'mesh-https': { type: 'string' },
  'mesh-advertise': { type: 'string', multiple: true },
  'tcp-max-connections': { type: 'string' },
  'tcp-host': { type: 'string' },
} as const;

export const MESH_USAGE = `
Mesh listener (edge mode; the region's workloads calling <service>.mesh):
  --mesh-http HOST:PORT       plain HTTP/1.1 and h2c for the region's workloads (port 80 in
                              production); callers must be inside the Region's instance networks
  --mesh-https HOST:PORT      the same over TLS (controlled mode: the proxy's mesh leaf); a caller
                              may present a workload certificate and is then identified by it
  --mesh-advertise IP         an address the zone DNS gives out for <service>.mesh (repeatable, at
                              most ${MAX_MESH_ADDRESSES}; default: the --mesh-http host when it is one address)
  TCP services (Service ports with protocol tcp) listen on their port on the public host
  and on the --mesh-http host.
  --tcp-host HOST             the public host of TCP services (default: the --http host, else --https)
  --tcp-max-connections N     open connections per TCP listener (${TCP_MAX_CONNECTIONS_RANGE.min}..${TCP_MAX_CONNECTIONS_RANGE.max}, default ${DEFAULT_TCP_MAX_CONNECTIONS})
`;

type Values = Record<string, string | boolean | string[] | undefined>;

export function parseMeshOptions(values: Values, mode: string, fail: (message: string) => Error): { mesh: MeshListenerOptions | undefined; tcp: TcpListenerOptions } {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const hostPort = (k: string): HostPort | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    try {
      return parseHostPort(v, `--${k}`);
    } catch (err) {
      throw fail((err as Error).message);
    }
  };
  const tcpHost = str('tcp-host');
  if (tcpHost !== undefined && isIP(tcpHost) === 0) throw fail(`--tcp-host: expected an IPv4 or IPv6 address, got '${tcpHost}'`);
  const tcp = { maxConnections: tcpMaxConnections(str('tcp-max-connections'), fail), ...(tcpHost !== undefined ? { host: tcpHost } : {}) };
  const http = hostPort('mesh-http');
  const https = hostPort('mesh-https');
  const given = Array.isArray(values['mesh-advertise']) ? (values['mesh-advertise'] as string[]) : [];
  if (http === undefined && https === undefined) {
    if (given.length > 0) throw fail('--mesh-advertise needs --mesh-http or --mesh-https');
    return { mesh: undefined, tcp };
  }
  if (mode !== 'edge') throw fail('--mesh-http: the mesh listener runs in an edge (--mode edge), not in an ingress');
  // The zone refuses a report with more, or with a zone id (fe80::1%eth0).
  if (given.length > MAX_MESH_ADDRESSES) throw fail(`--mesh-advertise: at most ${MAX_MESH_ADDRESSES} addresses, got ${given.length}`);
  for (const a of given) if (isIP(a) === 0 || a.includes('%')) throw fail(`--mesh-advertise: expected an IPv4 or IPv6 address, got '${a}'`);
  const own = http ?? https!;
  const advertise = given.length > 0 ? given : isSpecific(own.host) ? [own.host] : [];
  if (advertise.length === 0) throw fail(`--mesh-advertise: the mesh listener binds '${own.host}', not one address; name the address the zone DNS gives out`);
  return { mesh: { http, https, advertise }, tcp };
}

function isSpecific(host: string): boolean {
  return isIP(host) !== 0 && host !== '0.0.0.0' && host !== '::';
}

function tcpMaxConnections(raw: string | undefined, fail: (message: string) => Error): number {
  if (raw === undefined) return DEFAULT_TCP_MAX_CONNECTIONS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < TCP_MAX_CONNECTIONS_RANGE.min || n > TCP_MAX_CONNECTIONS_RANGE.max) {
    throw fail(`--tcp-max-connections: expected an integer from ${TCP_MAX_CONNECTIONS_RANGE.min} to ${TCP_MAX_CONNECTIONS_RANGE.max}, got '${raw}'`);
  }
  return n;
}
