// BIRD 2 configurations, rendered from plain data: the edge host's (announce
// the anycast /32s to its upstream routers, and nothing else) and the lab's
// continent routers' (propagate everything). Every value is checked before it
// is written, so bad input fails here with its name rather than in BIRD.
import { formatPrefix, isIPv4, parseNetwork } from './ipv4';

export interface BgpTimers {
  // Seconds; BGP's minimum hold time is 3.
  holdTime: number;
  keepaliveTime: number;
  // Seconds between tries to (re)connect, and before a failed session restarts.
  connectRetryTime: number;
  errorWaitTime: [min: number, max: number];
}

// BIRD's defaults (hold 240 s, retry 120 s, error wait 60 s) make a lab wait
// minutes; these fail over in seconds. Graceful restart is always off: a
// withdrawn edge must be forgotten at once, not kept as stale.
export const FAST_TIMERS: BgpTimers = { holdTime: 3, keepaliveTime: 1, connectRetryTime: 1, errorWaitTime: [1, 2] };

export interface BfdOptions {
  intervalMs: number;
  multiplier: number;
}

export const FAST_BFD: BfdOptions = { intervalMs: 100, multiplier: 3 };

export interface BgpNeighbor {
  // Names the session: BIRD protocol `bgp_<name>`.
  name: string;
  address: string;
  as: number;
  // Our address on the link; BIRD picks one when absent.
  localAddress?: string;
  bfd?: boolean;
}

interface CommonConfig {
  routerId: string;
  localAs: number;
  neighbors: BgpNeighbor[];
  timers?: BgpTimers;
  bfd?: BfdOptions;
  // Where BIRD logs: stderr suits a supervised process, syslog a daemon.
  log?: 'stderr' | 'syslog';
}

export interface EdgeBirdConfig extends CommonConfig {
  // The anycast /32s, announced only while `announce` is true.
  anycast: string[];
  announce: boolean;
  // Prefixes always announced (the host's own underlay prefix).
  originate?: string[];
}

export interface RouterBirdConfig extends CommonConfig {
  // Interfaces whose connected prefixes the router originates (client LANs).
  connectedInterfaces?: string[];
}

export const bgpProtocolName = (neighbor: string): string => `bgp_${neighbor}`;

// An upstream session's name from the neighbor's address: the same whoever
// renders the config (the edge, or whoever ran BIRD before it), so a
// re-render that keeps the neighbor does not restart the session.
export const upstreamName = (address: string): string => `up_${address.replace(/[.:]/g, '_')}`;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,30}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function checkAs(as: number, what: string): void {
  if (!Number.isInteger(as) || as < 1 || as > 4294967295) throw new Error(`${what}: AS must be an integer from 1 to 4294967295`);
}

function checkSeconds(n: number, min: number, what: string): void {
  if (!Number.isInteger(n) || n < min || n > 65535) throw new Error(`${what}: must be an integer from ${min} to 65535`);
}

function checkCommon(c: CommonConfig): void {
  if (!isIPv4(c.routerId)) throw new Error(`routerId: not an IPv4 address: ${JSON.stringify(c.routerId)}`);
  checkAs(c.localAs, 'localAs');
  const names = new Set<string>();
  c.neighbors.forEach((n, i) => {
    const what = `neighbors[${i}]`;
    if (!NAME_RE.test(n.name)) throw new Error(`${what}.name: letters, digits and _, starting with a letter: ${JSON.stringify(n.name)}`);
    if (names.has(n.name)) throw new Error(`${what}.name: ${n.name} is used twice`);
    names.add(n.name);
    if (!isIPv4(n.address)) throw new Error(`${what}.address: not an IPv4 address: ${JSON.stringify(n.address)}`);
    if (n.localAddress !== undefined && !isIPv4(n.localAddress)) throw new Error(`${what}.localAddress: not an IPv4 address`);
    checkAs(n.as, `${what}.as`);
  });
  const t = c.timers;
  if (t) {
    checkSeconds(t.holdTime, 3, 'timers.holdTime');
    checkSeconds(t.keepaliveTime, 1, 'timers.keepaliveTime');
    if (t.keepaliveTime * 3 > t.holdTime) throw new Error('timers.keepaliveTime: at most a third of holdTime');
    checkSeconds(t.connectRetryTime, 1, 'timers.connectRetryTime');
    checkSeconds(t.errorWaitTime[0], 1, 'timers.errorWaitTime[0]');
    checkSeconds(t.errorWaitTime[1], t.errorWaitTime[0], 'timers.errorWaitTime[1]');
  }
  if (c.bfd) {
    if (!Number.isInteger(c.bfd.intervalMs) || c.bfd.intervalMs < 10 || c.bfd.intervalMs > 60_000) throw new Error('bfd.intervalMs: an integer from 10 to 60000');
    if (!Number.isInteger(c.bfd.multiplier) || c.bfd.multiplier < 1 || c.bfd.multiplier > 255) throw new Error('bfd.multiplier: an integer from 1 to 255');
  }
}

function networks(prefixes: string[], what: string): string[] {
  return [...new Set(prefixes.map((p, i) => formatPrefix(parseNetwork(p, `${what}[${i}]`))))];
}

function header(c: CommonConfig): string[] {
  return [
    '# Rendered by Meridian; edits here are overwritten.',
    `router id ${c.routerId};`,
    ...(c.log ? [`log ${c.log} all;`] : []),
    // One token for the time, so `show protocols` splits into fixed columns.
    'timeformat protocol "%F_%T";',
    '',
    // Tracks interfaces: BGP on a link, static routes via an interface.
    'protocol device {',
    '  scan time 10;',
    '}',
    '',
  ];
}

function bfdProtocol(c: CommonConfig): string[] {
  if (!c.neighbors.some((n) => n.bfd)) return [];
  const bfd = c.bfd ?? FAST_BFD;
  return [
    'protocol bfd {',
    '  interface "*" {',
    `    min rx interval ${bfd.intervalMs} ms;`,
    `    min tx interval ${bfd.intervalMs} ms;`,
    `    multiplier ${bfd.multiplier};`,
    '  };',
    '}',
    '',
  ];
}

function bgpProtocol(c: CommonConfig, n: BgpNeighbor, channel: string[]): string[] {
  const t = c.timers;
  return [
    `protocol bgp ${bgpProtocolName(n.name)} {`,
    `  local ${n.localAddress ? `${n.localAddress} ` : ''}as ${c.localAs};`,
    `  neighbor ${n.address} as ${n.as};`,
    ...(t
      ? [
          `  hold time ${t.holdTime};`,
          `  startup hold time ${t.holdTime};`,
          `  keepalive time ${t.keepaliveTime};`,
          `  connect delay time ${t.connectRetryTime};`,
          `  connect retry time ${t.connectRetryTime};`,
          `  error wait time ${t.errorWaitTime[0]}, ${t.errorWaitTime[1]};`,
        ]
      : []),
    '  graceful restart off;',
    ...(n.bfd ? ['  bfd on;'] : []),
    '  ipv4 {',
    ...channel.map((l) => `    ${l}`),
    '  };',
    '}',
    '',
  ];
}

function staticProtocol(name: string, routes: string[], how: string): string[] {
  return [`protocol static ${name} {`, '  ipv4;', ...routes.map((r) => `  route ${r} ${how};`), '}', ''];
}

// An edge host: announces its anycast /32s (while `announce`) and its
// underlay prefixes to every neighbor; learns nothing (it routes by default).
export function renderEdgeConfig(c: EdgeBirdConfig): string {
  checkCommon(c);
  const anycast = networks(c.anycast, 'anycast');
  anycast.forEach((p, i) => {
    if (!p.endsWith('/32')) throw new Error(`anycast[${i}]: ${p} is not a /32`);
  });
  const originate = networks(c.originate ?? [], 'originate');
  const exported = [...anycast, ...originate];
  const exportRule = exported.length ? `export where net ~ [ ${exported.join(', ')} ];` : 'export none;';
  return [
    ...header(c),
    // The anycast address sits on lo; a route via lo is what BIRD announces
    // (with itself as next hop), and rendering it out withdraws it.
    ...staticProtocol('anycast', c.announce ? anycast : [], 'via "lo"'),
    // The aggregate for the host's underlay: announced, never installed here.
    ...staticProtocol('underlay', originate, 'unreachable'),
    ...bfdProtocol(c),
    ...c.neighbors.flatMap((n) => bgpProtocol(c, n, ['import none;', exportRule])),
  ].join('\n');
}

// A transit router: learns and passes on everything, originates its client
// LANs, and installs what it learns in the kernel so it forwards by it.
export function renderRouterConfig(c: RouterBirdConfig): string {
  checkCommon(c);
  const ifaces = c.connectedInterfaces ?? [];
  ifaces.forEach((i, n) => {
    if (!IFNAME_RE.test(i)) throw new Error(`connectedInterfaces[${n}]: not an interface name: ${JSON.stringify(i)}`);
  });
  return [
    ...header(c),
    ...(ifaces.length ? ['protocol direct connected {', '  ipv4;', `  interface ${ifaces.map((i) => `"${i}"`).join(', ')};`, '}', ''] : []),
    'protocol kernel {',
    '  ipv4 {',
    '    import none;',
    // Connected LANs are in the kernel already; only learnt routes go there.
    '    export where source != RTS_DEVICE;',
    '  };',
    '}',
    '',
    ...bfdProtocol(c),
    ...c.neighbors.flatMap((n) => bgpProtocol(c, n, ['import all;', 'export all;'])),
  ].join('\n');
}
