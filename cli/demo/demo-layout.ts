// The demo's fixed addresses: three regions on loopback, each with a zone
// controller, an edge, a zone ingress and two echo instances. Each region's
// mesh listener (what its zone DNS answers for <service>.mesh) has a
// loopback address of its own, 127.0.<n>.1, on port 80 as in production
// and 443 for TLS (10080 and 10443 when not run as root: ports under 1024 need it). The README and
// `meridian demo --help` print this table.

export interface DemoRegionLayout {
  name: string;
  zoneHttp: number;
  zoneGrpc: number;
  dns: number;
  ingress: number;
  ingressAdmin: number;
  edgeHttp: number;
  edgeHttps: number;
  edgeAdmin: number;
  // The mesh listener: the address the zone DNS gives out, and its port.
  meshAddress: string;
  meshPort: number;
  // The same with TLS, for workloads that present a workload certificate.
  meshTlsPort: number;
  echo: [number, number];
  // The edge's public address for TCP services (--tcp-host).
  tcpHost: string;
  // A redis-server instance of the redis service (fra and iad only).
  redis: number | null;
}

export interface DemoLayout {
  etcdClient: number;
  etcdPeer: number;
  globalGrpc: number;
  globalHttp: number;
  regions: DemoRegionLayout[];
}

export const DEMO_REGIONS = ['fra', 'iad', 'sin'] as const;

// Ports under 1024 need root (or CAP_NET_BIND_SERVICE).
function privileged(port: number, offset: number): number {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return (root ? port : 10000 + port) + offset;
}

// The mesh listeners' and TCP services' loopback network: 127.0.x.x, and
// another one for a demo with its ports moved (Service ports such as redis's
// 6379 do not move: two demos at once keep apart by address).
function loopbackNet(offset: number): string {
  return offset === 0 ? '127.0' : `127.${1 + (Math.floor(offset / 10) % 254)}`;
}

export function demoLayout(offset = 0): DemoLayout {
  return {
    etcdClient: 12379 + offset,
    etcdPeer: 12380 + offset,
    globalGrpc: 7400 + offset,
    globalHttp: 7401 + offset,
    regions: DEMO_REGIONS.map((name, i) => ({
      name,
      zoneHttp: 7500 + 10 * i + offset,
      zoneGrpc: 7501 + 10 * i + offset,
      dns: 5353 + i + offset,
      ingress: 7600 + 10 * i + offset,
      ingressAdmin: 7601 + 10 * i + offset,
      edgeHttp: 8080 + i + offset,
      edgeHttps: 8443 + i + offset,
      edgeAdmin: 7602 + 10 * i + offset,
      meshAddress: `${loopbackNet(offset)}.${i + 1}.1`,
      meshPort: privileged(80, offset),
      meshTlsPort: privileged(443, offset),
      echo: [9001 + 10 * i + offset, 9002 + 10 * i + offset],
      tcpHost: `${loopbackNet(offset)}.${i + 1}.2`,
      redis: i < 2 ? 6391 + i + offset : null,
    })),
  };
}

export function layoutTable(l: DemoLayout): string {
  const rows = [
    `etcd                 127.0.0.1:${l.etcdClient}`,
    `global controller    federation 127.0.0.1:${l.globalGrpc}   admin API http://127.0.0.1:${l.globalHttp}`,
    '',
    'region  zone API  discovery  DNS (udp+tcp)  edge http  edge https  edge admin  ingress  ingress admin  mesh listener    echo instances',
  ];
  for (const r of l.regions) {
    rows.push(
      `${r.name.padEnd(8)}${String(r.zoneHttp).padEnd(10)}${String(r.zoneGrpc).padEnd(11)}${String(r.dns).padEnd(15)}${String(r.edgeHttp).padEnd(11)}${String(r.edgeHttps).padEnd(12)}${String(r.edgeAdmin).padEnd(12)}${String(r.ingress).padEnd(9)}${String(r.ingressAdmin).padEnd(15)}${`${r.meshAddress}:${r.meshPort}`.padEnd(17)}${r.echo.join(', ')}`,
    );
  }
  return rows.join('\n') + '\n(all on 127.0.0.1 but the mesh listeners)\n';
}
