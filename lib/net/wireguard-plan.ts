// What it takes to go from the peers an interface has (`wg show dump`) to the
// peers the control plane wants: peers to add, to update, to remove, as one
// `wg set` command line, and the routes to the peers' allowed IPs. Pure.
import { formatPrefix, parseEndpoint, parseNetwork } from './ipv4';
import { isWireGuardKey } from './wireguard-keys';
import type { WgPeerDump } from './wireguard-dump';

export interface DesiredPeer {
  publicKey: string;
  // ip:port; null for a peer that only dials in (its endpoint is learnt).
  endpoint: string | null;
  allowedIps: string[];
  // Seconds; null or 0 for off.
  persistentKeepalive: number | null;
}

export interface PeerChange {
  peer: DesiredPeer;
  changed: ('endpoint' | 'allowedIps' | 'persistentKeepalive')[];
}

export interface PeerPlan {
  add: DesiredPeer[];
  update: PeerChange[];
  remove: string[];
  unchanged: string[];
}

function normalizeAllowedIps(ips: string[], what: string): string[] {
  return [...new Set(ips.map((ip) => formatPrefix(parseNetwork(ip, what))))].sort();
}

// Checks and canonicalizes the desired set; throws on what wg would silently
// mangle (a key twice, an allowed IP claimed by two peers).
export function normalizeDesired(desired: DesiredPeer[]): DesiredPeer[] {
  const keys = new Set<string>();
  const owners = new Map<string, string>();
  return desired.map((p, i) => {
    const what = `peer ${i}`;
    if (!isWireGuardKey(p.publicKey)) throw new Error(`${what}: publicKey is not a WireGuard key`);
    if (keys.has(p.publicKey)) throw new Error(`${what}: publicKey ${p.publicKey} listed twice`);
    keys.add(p.publicKey);
    if (p.endpoint !== null) parseEndpoint(p.endpoint, `${what}.endpoint`);
    const ka = p.persistentKeepalive ?? 0;
    if (!Number.isInteger(ka) || ka < 0 || ka > 65535) throw new Error(`${what}: persistentKeepalive must be an integer from 0 to 65535`);
    const allowedIps = normalizeAllowedIps(p.allowedIps, `${what}.allowedIps`);
    for (const ip of allowedIps) {
      const other = owners.get(ip);
      if (other) throw new Error(`${what}: allowed IP ${ip} is already ${other}'s`);
      owners.set(ip, what);
    }
    return { publicKey: p.publicKey, endpoint: p.endpoint, allowedIps, persistentKeepalive: ka || null };
  });
}

export function planPeers(current: WgPeerDump[], desiredIn: DesiredPeer[]): PeerPlan {
  const desired = normalizeDesired(desiredIn);
  const have = new Map(current.map((p) => [p.publicKey, p]));
  const want = new Set(desired.map((p) => p.publicKey));
  const plan: PeerPlan = { add: [], update: [], remove: [], unchanged: [] };
  for (const peer of desired) {
    const cur = have.get(peer.publicKey);
    if (!cur) {
      plan.add.push(peer);
      continue;
    }
    const changed: PeerChange['changed'] = [];
    // A peer without a configured endpoint keeps the one it roamed from.
    if (peer.endpoint !== null && peer.endpoint !== cur.endpoint) changed.push('endpoint');
    if (normalizeAllowedIps(cur.allowedIps, 'current').join(',') !== peer.allowedIps.join(',')) changed.push('allowedIps');
    if ((cur.persistentKeepalive ?? null) !== peer.persistentKeepalive) changed.push('persistentKeepalive');
    if (changed.length) plan.update.push({ peer, changed });
    else plan.unchanged.push(peer.publicKey);
  }
  plan.remove = current.filter((p) => !want.has(p.publicKey)).map((p) => p.publicKey);
  return plan;
}

function peerArgs(p: DesiredPeer): string[] {
  const args = ['peer', p.publicKey];
  if (p.endpoint !== null) args.push('endpoint', p.endpoint);
  // An empty list clears the peer's allowed IPs.
  args.push('allowed-ips', p.allowedIps.join(','));
  args.push('persistent-keepalive', p.persistentKeepalive ? String(p.persistentKeepalive) : 'off');
  return args;
}

// The arguments of one `wg set` that applies the whole plan; null if nothing
// is to change.
export function wgSetArgs(ifname: string, plan: PeerPlan): string[] | null {
  const args: string[] = [];
  for (const key of plan.remove) args.push('peer', key, 'remove');
  for (const { peer } of plan.update) args.push(...peerArgs(peer));
  for (const peer of plan.add) args.push(...peerArgs(peer));
  return args.length ? ['set', ifname, ...args] : null;
}

export interface RoutePlan {
  add: string[];
  remove: string[];
}

// Routes through the interface: one per allowed IP of a desired peer; any
// other (non-kernel) route on the interface goes.
export function planRoutes(currentRoutes: string[], desiredIn: DesiredPeer[]): RoutePlan {
  const want = new Set(normalizeDesired(desiredIn).flatMap((p) => p.allowedIps));
  const have = new Set(currentRoutes.map((r) => formatPrefix(parseNetwork(r === 'default' ? '0.0.0.0/0' : r, 'route'))));
  return { add: [...want].filter((r) => !have.has(r)).sort(), remove: [...have].filter((r) => !want.has(r)).sort() };
}
