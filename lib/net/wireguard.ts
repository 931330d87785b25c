// What a zone controller (or node agent) needs to own one WireGuard
// interface: bring it up (kernel WireGuard when the kernel has it, else
// wireguard-go), reconcile its peers and their routes with what the control
// plane lists, report handshakes and traffic, and take it down.
//
// wireguard-go keeps its control socket in /var/run/wireguard, which all
// network namespaces share: interface names must be unique on the host.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommandError, run } from './exec';
import { parsePrefix } from './ipv4';
import { parseWgDump, type WgDump } from './wireguard-dump';
import { planPeers, planRoutes, wgSetArgs, type DesiredPeer, type PeerPlan, type RoutePlan } from './wireguard-plan';
import { readPrivateKeyFile, publicKeyOf } from './wireguard-keys';

export { generateKeyPair, writePrivateKeyFile, ensurePrivateKeyFile, publicKeyOf, isWireGuardKey } from './wireguard-keys';
export { parseWgDump } from './wireguard-dump';
export { planPeers, planRoutes, wgSetArgs } from './wireguard-plan';
export type { DesiredPeer, PeerPlan, RoutePlan } from './wireguard-plan';

export const WIREGUARD_GO_SOCKET_DIR = '/var/run/wireguard';
const USERSPACE_ENV = { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };

export interface NetnsOption {
  netns?: string;
}

export interface BringUpOptions extends NetnsOption {
  ifname: string;
  // The key in a file, or the key itself: given to `wg` on its standard
  // input, so it never touches the disk (a zone without a state key, or one
  // that keeps its key sealed).
  privateKeyFile?: string;
  privateKey?: string;
  listenPort: number;
  // The interface's tunnel address, e.g. 10.99.0.1/32.
  address: string;
  mtu?: number;
}

export interface WireGuardInterface {
  ifname: string;
  netns: string | undefined;
  implementation: 'kernel' | 'wireguard-go';
  publicKey: string;
  listenPort: number;
}

export interface PeerStatus {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  // null: no handshake yet.
  latestHandshakeAtMs: number | null;
  rxBytes: number;
  txBytes: number;
}

export function checkIfname(ifname: string): void {
  // IFNAMSIZ is 16 with the NUL; the name is also a file name in the socket dir.
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname) || ifname === '.' || ifname === '..') {
    throw new Error(`interface name ${JSON.stringify(ifname)}: 1 to 15 of A-Z a-z 0-9 _ . -`);
  }
}

async function linkKind(ifname: string, netns: string | undefined): Promise<string | null | undefined> {
  try {
    const { stdout } = await run('ip', ['-d', '-j', 'link', 'show', 'dev', ifname], { netns });
    const [link] = JSON.parse(stdout) as { linkinfo?: { info_kind?: string } }[];
    return link?.linkinfo?.info_kind ?? null;
  } catch (err) {
    if (err instanceof CommandError && /does not exist|Cannot find device/i.test(err.stderr)) return undefined;
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWireguardGo(ifname: string, netns: string | undefined): Promise<void> {
  // Without -f it forks itself into the background once the tun device and
  // its socket exist, so the interface outlives the agent that made it.
  await run('wireguard-go', [ifname], { netns, env: USERSPACE_ENV, timeoutMs: 15_000 });
  const sock = path.join(WIREGUARD_GO_SOCKET_DIR, `${ifname}.sock`);
  for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await sleep(50);
  if (!fs.existsSync(sock)) throw new Error(`wireguard-go ${ifname}: no control socket at ${sock} after 5 s`);
}

async function createInterface(ifname: string, netns: string | undefined): Promise<WireGuardInterface['implementation']> {
  try {
    await run('ip', ['link', 'add', 'dev', ifname, 'type', 'wireguard'], { netns });
    return 'kernel';
  } catch (err) {
    if (!(err instanceof CommandError) || !/Unknown device type|not supported|Operation not supported/i.test(err.stderr)) throw err;
  }
  await startWireguardGo(ifname, netns);
  return 'wireguard-go';
}

// Idempotent: an interface that is already there (say the agent restarted)
// is configured again, not made anew.
export async function bringUp(opts: BringUpOptions): Promise<WireGuardInterface> {
  const { ifname, netns } = opts;
  checkIfname(ifname);
  parsePrefix(opts.address, 'address');
  if (!Number.isInteger(opts.listenPort) || opts.listenPort < 1 || opts.listenPort > 65535) throw new Error('listenPort must be from 1 to 65535');
  if (!opts.privateKeyFile === !opts.privateKey) throw new Error('bringUp needs one of privateKeyFile or privateKey');
  const publicKey = publicKeyOf(opts.privateKey ?? (await readPrivateKeyFile(opts.privateKeyFile!)));
  const kind = await linkKind(ifname, netns);
  let implementation: WireGuardInterface['implementation'];
  if (kind === undefined) implementation = await createInterface(ifname, netns);
  else if (kind === 'wireguard') implementation = 'kernel';
  else if (kind === 'tun' && fs.existsSync(path.join(WIREGUARD_GO_SOCKET_DIR, `${ifname}.sock`))) implementation = 'wireguard-go';
  else throw new Error(`${ifname} exists and is not a WireGuard interface (${kind ?? 'unknown kind'})`);
  if (opts.privateKeyFile) {
    await run('wg', ['set', ifname, 'listen-port', String(opts.listenPort), 'private-key', opts.privateKeyFile], { netns });
  } else {
    // The key goes to wg through a pipe, never a file (as wg-quick does it):
    // wg cannot open /dev/stdin when it is the socket Node gives a child, so
    // bash hands it a real pipe that cat fills from stdin.
    await run('bash', ['-c', 'wg set "$1" listen-port "$2" private-key <(cat)', 'bash', ifname, String(opts.listenPort)], { netns, input: `${opts.privateKey}\n` });
  }
  await run('ip', ['address', 'replace', opts.address, 'dev', ifname], { netns });
  await run('ip', ['link', 'set', 'dev', ifname, ...(opts.mtu ? ['mtu', String(opts.mtu)] : []), 'up'], { netns });
  return { ifname, netns, implementation, publicKey, listenPort: opts.listenPort };
}

export async function dump(ifname: string, opts: NetnsOption = {}): Promise<WgDump> {
  checkIfname(ifname);
  const { stdout } = await run('wg', ['show', ifname, 'dump'], { netns: opts.netns });
  return parseWgDump(stdout);
}

async function interfaceRoutes(ifname: string, netns: string | undefined): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'route', 'show', 'dev', ifname], { netns });
  const routes = JSON.parse(stdout || '[]') as { dst: string; protocol?: string }[];
  // Kernel routes come from the interface's own address; not ours to manage.
  return routes.filter((r) => r.protocol !== 'kernel').map((r) => r.dst);
}

export interface ReconcileResult {
  peers: PeerPlan;
  routes: RoutePlan;
}

// Makes the interface's peers, and the routes to their allowed IPs, exactly
// `desired`; returns what it changed.
export async function reconcilePeers(ifname: string, desired: DesiredPeer[], opts: NetnsOption = {}): Promise<ReconcileResult> {
  const { netns } = opts;
  const current = await dump(ifname, opts);
  const peers = planPeers(current.peers, desired);
  const setArgs = wgSetArgs(ifname, peers);
  if (setArgs) await run('wg', setArgs, { netns });
  const routes = planRoutes(await interfaceRoutes(ifname, netns), desired);
  for (const dst of routes.remove) await run('ip', ['route', 'del', dst, 'dev', ifname], { netns });
  for (const dst of routes.add) await run('ip', ['route', 'replace', dst, 'dev', ifname], { netns });
  return { peers, routes };
}

export function toPeerStatus(d: WgDump): PeerStatus[] {
  return d.peers.map((p) => ({
    publicKey: p.publicKey,
    endpoint: p.endpoint,
    allowedIps: p.allowedIps,
    latestHandshakeAtMs: p.latestHandshake ? p.latestHandshake * 1000 : null,
    rxBytes: p.rxBytes,
    txBytes: p.txBytes,
  }));
}

export async function peerStatus(ifname: string, opts: NetnsOption = {}): Promise<PeerStatus[]> {
  return toPeerStatus(await dump(ifname, opts));
}

// The wireguard-go processes serving `ifname` (found by their argv, so by
// exact interface name, never by a pattern).
export function wireguardGoPids(ifname: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length && path.basename(argv[0]!) === 'wireguard-go' && argv[argv.length - 1] === ifname) {
        const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
        if (state !== 'Z') pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// Idempotent. Deleting the link also ends wireguard-go; one that lingers is
// stopped by pid.
export async function bringDown(ifname: string, opts: NetnsOption = {}): Promise<void> {
  checkIfname(ifname);
  try {
    await run('ip', ['link', 'del', 'dev', ifname], { netns: opts.netns });
  } catch (err) {
    if (!(err instanceof CommandError) || !/Cannot find device|does not exist/i.test(err.stderr)) throw err;
  }
  const sock = path.join(WIREGUARD_GO_SOCKET_DIR, `${ifname}.sock`);
  for (let i = 0; i < 40 && (fs.existsSync(sock) || wireguardGoPids(ifname).length); i++) await sleep(50);
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const pids = wireguardGoPids(ifname);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 20 && wireguardGoPids(ifname).length; i++) await sleep(50);
  }
  fs.rmSync(sock, { force: true });
}
