// The anycast flags of `meridian edge`: where the local BIRD is, and what
// the Region resource's spec.bgp does not say (router id, prefixes this host
// always announces, timers). Parsed here so edge/options.ts only merges them.
import { parseDuration } from '../../lib/resources';
import { isIPv4, parseNetwork } from '../../lib/net/ipv4';

export interface AnycastOptions {
  birdSocket: string;
  birdConfig: string;
  // Overrides spec.bgp.anycast of the Region when given.
  anycast: string[];
  routerId?: string;
  // Prefixes announced whatever the health (the host's own underlay).
  originate: string[];
  holdTimeSeconds: number;
  // Discovery counts as fresh while connected, or this long after its last message.
  staleAfterMs: number;
  // On SIGTERM: time between the withdrawal and closing the listeners, for
  // routers to move traffic elsewhere while this edge still answers.
  withdrawWaitMs: number;
}

export const ANYCAST_ARGS = {
  'bird-socket': { type: 'string' },
  'bird-config': { type: 'string' },
  anycast: { type: 'string', multiple: true },
  'bgp-router-id': { type: 'string' },
  'bgp-originate': { type: 'string', multiple: true },
  'bgp-hold-time': { type: 'string' },
  'discovery-stale-after': { type: 'string' },
  'withdraw-wait': { type: 'string' },
} as const;

export const ANYCAST_USAGE = `
Anycast (BGP through a local BIRD 2; needs --bird-socket and --bird-config):
  --bird-socket PATH          BIRD's control socket (birdc -s PATH)
  --bird-config PATH          the file BIRD was started with (-c); the edge rewrites it
                              from the Region's spec.bgp and runs 'birdc configure'
  --anycast IP                address to announce (repeatable; default spec.bgp.anycast)
  --bgp-router-id IP          BIRD's router id (default: the first non-loopback IPv4 address)
  --bgp-originate PREFIX      a prefix announced whatever the health, e.g. this host's own (repeatable)
  --bgp-hold-time SECONDS     hold time of the BGP sessions; keepalive a third of it (default 9)
  --discovery-stale-after D   withdraw once discovery is disconnected and silent this long (default 10s)
  --withdraw-wait D           on SIGTERM, keep answering this long after the withdrawal (default 1s)
  The address is announced only while healthy: listener up, discovery fresh, and a region
  (this one counts) with a healthy instance of a service; withdrawn first on SIGTERM.
`;

type Values = Record<string, string | boolean | string[] | undefined>;

export function parseAnycastOptions(values: Values, fail: (message: string) => Error): AnycastOptions | undefined {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(values[k]) ? (values[k] as string[]) : []);
  const socket = str('bird-socket');
  const config = str('bird-config');
  const others = ['anycast', 'bgp-router-id', 'bgp-originate', 'bgp-hold-time', 'discovery-stale-after', 'withdraw-wait'].filter((k) => values[k] !== undefined);
  if (socket === undefined && config === undefined) {
    if (others.length > 0) throw fail(`--${others[0]} needs --bird-socket and --bird-config`);
    return undefined;
  }
  if (socket === undefined || config === undefined) throw fail('--bird-socket and --bird-config go together');
  const anycast = list('anycast');
  anycast.forEach((a) => {
    if (!isIPv4(a)) throw fail(`--anycast: '${a}' is not an IPv4 address`);
  });
  const routerId = str('bgp-router-id');
  if (routerId !== undefined && !isIPv4(routerId)) throw fail(`--bgp-router-id: '${routerId}' is not an IPv4 address`);
  const originate = list('bgp-originate');
  for (const p of originate) {
    try {
      parseNetwork(p, '--bgp-originate');
    } catch (err) {
      throw fail((err as Error).message);
    }
  }
  const holdRaw = str('bgp-hold-time') ?? '9';
  const hold = Number(holdRaw);
  if (!Number.isInteger(hold) || hold < 3 || hold > 65535) throw fail(`--bgp-hold-time: expected whole seconds from 3 to 65535, got '${holdRaw}'`);
  const duration = (flag: string, fallback: number) => {
    const v = str(flag);
    if (v === undefined) return fallback;
    try {
      return parseDuration(v);
    } catch {
      throw fail(`--${flag}: expected a duration such as 500ms or 10s, got '${v}'`);
    }
  };
  return {
    birdSocket: socket,
    birdConfig: config,
    anycast,
    routerId,
    originate,
    holdTimeSeconds: hold,
    staleAfterMs: duration('discovery-stale-after', 10_000),
    withdrawWaitMs: duration('withdraw-wait', 1_000),
  };
}
