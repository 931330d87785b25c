// The lab's address plan and names. Addresses are private (10/8) or
// documentation (203.0.113.0/24) ranges and live only inside the lab's
// namespaces; names carry the run's prefix so runs never collide and
// teardown finds everything by it.

export const CONTINENTS = ['eu', 'us', 'ap'] as const;
export type Continent = (typeof CONTINENTS)[number];
// The three regions a lab has by default; `syd` (a second region behind the
// ap router) is built only when asked for, for a region that joins later.
export const REGIONS = ['fra', 'iad', 'sin'] as const;
export const ALL_REGIONS = ['fra', 'iad', 'sin', 'syd'] as const;
export type Region = (typeof ALL_REGIONS)[number];
// A region's workload host: a namespace on the region's instance network.
export type WorkloadNode = `${Region}-workload`;
export type LabNode = Continent | Region | `${Continent}-client` | WorkloadNode | 'global';

export const workloadNode = (r: Region): WorkloadNode => `${r}-workload`;

export const ANYCAST = '203.0.113.10';
export const TUNNEL_RANGE = '10.99.0.0/24';
export const WG_PORT = 51820;

export interface RouterAddresses {
  ns: string;
  as: number;
  routerId: string;
}

export interface LinkEnd {
  node: LabNode;
  ifname: string;
  address: string;
}

// A veth pair on a /30 (a = first host, b = second).
export interface Link {
  a: LinkEnd;
  b: LinkEnd;
  prefixLength: number;
}

export interface RegionAddresses {
  ns: string;
  continent: Continent;
  as: number;
  // The host's own address (on lo), the WireGuard endpoint; and the prefix
  // its BIRD announces for it.
  underlay: string;
  underlayPrefix: string;
  // Its WireGuard interface and tunnel address (a /32 out of TUNNEL_RANGE).
  wgIfname: string;
  tunnel: string;
  // Its side and its router's side of the access link.
  uplink: Link;
  // The region's private instance network (in the Region's
  // spec.instanceNetworks, never announced): the host's side (the mesh
  // listener and the zone DNS) and a workload namespace on it.
  instanceNetwork: InstanceNetwork;
}

export interface InstanceNetwork {
  prefix: string;
  // The region host's address on it: where its workloads reach the mesh.
  host: string;
  workload: string;
  link: Link;
}

export interface HostAddresses {
  ns: string;
  address: string;
  gateway: string;
  lan: string;
  uplink: Link;
}

export interface LabAddresses {
  prefix: string;
  anycast: string;
  tunnelRange: string;
  wgPort: number;
  routers: Record<Continent, RouterAddresses>;
  // eu—us and us—ap: the chain.
  backbone: Link[];
  regions: Record<Region, RegionAddresses>;
  clients: Record<Continent, HostAddresses>;
  global: HostAddresses & { continent: Continent };
}

export const REGION_CONTINENT: Record<Region, Continent> = { fra: 'eu', iad: 'us', sin: 'ap', syd: 'ap' };

const link = (prefix: string, a: LabNode, aShort: string, b: LabNode, bShort: string, net: string): Link => {
  const base = net.split('.').slice(0, 3).join('.');
  const last = Number(net.split('.')[3]);
  // Interface names: <prefix><this side>-<other side>, 15 chars at most.
  return {
    a: { node: a, ifname: `${prefix}${aShort}-${bShort}`, address: `${base}.${last + 1}` },
    b: { node: b, ifname: `${prefix}${bShort}-${aShort}`, address: `${base}.${last + 2}` },
    prefixLength: 30,
  };
};

// 172.20.N.0/24: the region host .1, its workload .10 (interfaces <prefix><region>-wl, <prefix>wl-<region>).
const instanceNetwork = (prefix: string, r: Region, n: number): InstanceNetwork => {
  const base = `172.20.${n}`;
  return {
    prefix: `${base}.0/24`,
    host: `${base}.1`,
    workload: `${base}.10`,
    link: {
      a: { node: r, ifname: `${prefix}${r}-wl`, address: `${base}.1` },
      b: { node: workloadNode(r), ifname: `${prefix}wl-${r}`, address: `${base}.10` },
      prefixLength: 24,
    },
  };
};

export function nsName(prefix: string, node: LabNode): string {
  return `${prefix}-${node}`;
}

export function labAddresses(prefix: string): LabAddresses {
  if (!/^mr[0-9a-f]{4}$/.test(prefix)) throw new Error(`lab prefix must be mr + 4 hex digits, not ${JSON.stringify(prefix)}`);
  const routers = {
    eu: { ns: nsName(prefix, 'eu'), as: 65001, routerId: '10.255.255.1' },
    us: { ns: nsName(prefix, 'us'), as: 65002, routerId: '10.255.255.2' },
    ap: { ns: nsName(prefix, 'ap'), as: 65003, routerId: '10.255.255.3' },
  };
  const region = (r: Region, n: number, linkNet: string): RegionAddresses => ({
    ns: nsName(prefix, r),
    continent: REGION_CONTINENT[r],
    as: 65100 + n,
    underlay: `10.${n}.0.1`,
    underlayPrefix: `10.${n}.0.0/24`,
    wgIfname: `${prefix}wg-${r}`,
    tunnel: `10.99.0.${n}`,
    uplink: link(prefix, REGION_CONTINENT[r], REGION_CONTINENT[r], r, r, linkNet),
    instanceNetwork: instanceNetwork(prefix, r, n),
  });
  const host = (node: LabNode, continent: Continent, short: string, n: number): HostAddresses => {
    const uplink = link(prefix, continent, continent, node, short, `10.10.${n}.0`);
    return { ns: nsName(prefix, node), address: uplink.b.address, gateway: uplink.a.address, lan: `10.10.${n}.0/30`, uplink };
  };
  return {
    prefix,
    anycast: ANYCAST,
    tunnelRange: TUNNEL_RANGE,
    wgPort: WG_PORT,
    routers,
    backbone: [link(prefix, 'eu', 'eu', 'us', 'us', '10.255.0.0'), link(prefix, 'us', 'us', 'ap', 'ap', '10.255.0.4')],
    regions: { fra: region('fra', 1, '10.255.1.0'), iad: region('iad', 2, '10.255.1.4'), sin: region('sin', 3, '10.255.1.8'), syd: region('syd', 4, '10.255.1.12') },
    clients: { eu: host('eu-client', 'eu', 'cl', 1), us: host('us-client', 'us', 'cl', 2), ap: host('ap-client', 'ap', 'cl', 3) },
    global: { ...host('global', 'eu', 'gl', 9), continent: 'eu' },
  };
}
