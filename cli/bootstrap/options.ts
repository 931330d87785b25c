// The flags of `meridian bootstrap`, checked all at once so that a bad command
// line fails before anything on the machine is touched, with one line saying
// what is wrong.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { peekJoinToken } from '../../lib/auth/join-token-payload';
import { checkToken } from '../../lib/auth/token-rule';
import { checkIfname } from '../../lib/net/wireguard';
import { dataKeyFromBytes } from '../../lib/pki/data-key';
import { isFingerprint } from '../../lib/pki/fingerprint';
import { isTrustDomain } from '../../lib/pki/identity';
import { meridianBin } from '../../lib/process/meridian-bin';
import { parseCommandArgs, stringOption } from '../args';
import { UsageError } from '../errors';
import { DEFAULT_TRUST_DOMAIN, tunnelInterface } from './layout';

export type Role = 'global' | 'region';

export interface EtcdPeer {
  name: string;
  peerUrl: string;
  host: string;
}

export interface BootstrapOptions {
  role: Role;
  nodeName: string;
  /** Region nodes: the region, the global controller's federation address and the join token. */
  region?: string;
  globalAddress?: string;
  joinToken?: string;
  /** Region nodes: the mesh root's fingerprint ("sha256:<hex>") that the join token carries; the proxy token pins it. */
  rootFingerprint?: string;
  /** Global nodes: the etcd cluster (this node included) and the admin token, if one was given. */
  etcdPeers: EtcdPeer[];
  adminToken?: string;
  /** Global nodes: the data key that seals the mesh CA (the same on every global node), if one was given. */
  dataKey?: string;
  /** Global nodes: the SPIFFE trust domain of the mesh's identities. */
  trustDomain?: string;
  /** Region nodes: where other regions send WireGuard (required); global nodes: informational. */
  publicAddress?: string;
  /** Region nodes: this region's address in the tunnel range (an IPv4 address; the zone controller routes a /32 per region). */
  tunnelAddress?: string;
  /** Region nodes: the WireGuard interface, mrd-<region> unless given. */
  tunnelInterface?: string;
  /** Where everything is written: '/' on a real node, a scratch directory in tests. */
  root: string;
  underRoot: boolean;
  install: boolean;
  start: boolean;
  dryRun: boolean;
  /** The programs the units run: node itself and this package's bin/meridian. */
  nodeBin: string;
  meridianBin: string;
}

export const OPTION_SPEC = {
  role: { type: 'string' },
  region: { type: 'string' },
  global: { type: 'string' },
  'join-token': { type: 'string' },
  'join-token-file': { type: 'string' },
  'admin-token-file': { type: 'string' },
  'etcd-peers': { type: 'string' },
  'node-name': { type: 'string' },
  'public-address': { type: 'string' },
  'tunnel-address': { type: 'string' },
  'tunnel-interface': { type: 'string' },
  'data-key-file': { type: 'string' },
  'trust-domain': { type: 'string' },
  'meridian-bin': { type: 'string' },
  root: { type: 'string' },
  'no-install': { type: 'boolean' },
  'no-start': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

const COMMAND = 'bootstrap';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Linux interface names are at most 15 bytes; the tunnel is `mrd-<region>`.
const MAX_REGION_FOR_INTERFACE = 15 - 'mrd-'.length;
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function parseBootstrapOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BootstrapOptions | 'help' {
  const args = parseCommandArgs(COMMAND, argv, { ...OPTION_SPEC });
  if (args.help) return 'help';
  if (args.positionals.length > 0) throw usage(`unexpected argument "${args.positionals[0]}"`);
  const str = (name: keyof typeof OPTION_SPEC) => stringOption(args, name);
  const flag = (name: keyof typeof OPTION_SPEC) => args.values[name] === true;

  const role = str('role');
  if (role === undefined) throw usage('missing --role global|region');
  if (role !== 'global' && role !== 'region') throw usage(`--role must be global or region, got "${role}"`);

  const nodeName = str('node-name') ?? os.hostname().split('.')[0]!.toLowerCase();
  if (!DNS_LABEL.test(nodeName)) throw usage(`--node-name "${nodeName}" is not a DNS label (a-z, 0-9 and '-')`);

  const root = path.resolve(str('root') ?? '/');
  const underRoot = root !== '/';
  if (underRoot && !fs.existsSync(root)) throw usage(`--root ${root} does not exist`);

  const publicAddress = str('public-address');
  if (publicAddress !== undefined && !isAddress(publicAddress)) throw usage(`--public-address "${publicAddress}" is not an IP address or host name`);

  const common = {
    role,
    nodeName,
    publicAddress,
    root,
    underRoot,
    install: !flag('no-install'),
    start: !flag('no-start'),
    dryRun: flag('dry-run'),
    nodeBin: process.execPath,
    meridianBin: resolveMeridianBin(str('meridian-bin')),
  } as const;

  if (role === 'region') {
    for (const name of ['etcd-peers', 'admin-token-file', 'data-key-file', 'trust-domain'] as const) {
      if (str(name) !== undefined) throw usage(`--${name} is for --role global`);
    }
    const region = str('region');
    if (region === undefined) throw usage('--role region needs --region NAME');
    if (!DNS_LABEL.test(region)) throw usage(`--region "${region}" is not a region name (a-z, 0-9 and '-')`);
    if (region.length > MAX_REGION_FOR_INTERFACE) {
      throw usage(`--region "${region}" is longer than ${MAX_REGION_FOR_INTERFACE} characters: the tunnel interface mrd-${region} would not fit`);
    }
    const globalAddress = str('global');
    if (globalAddress === undefined) throw usage('--role region needs --global HOST:PORT (the federation address)');
    if (!HOST_PORT.test(globalAddress)) throw usage(`--global "${globalAddress}" is not HOST:PORT`);
    const joinToken = readSecret(str('join-token'), str('join-token-file'), 'MERIDIAN_JOIN_TOKEN', env.MERIDIAN_JOIN_TOKEN, 'join-token');
    if (joinToken === undefined) throw usage('--role region needs --join-token TOKEN or --join-token-file FILE (from `meridian token create`)');
    // The proxy token that bootstrap makes for discovery pins the root the
    // join token names (the zone controller refuses a token without it too).
    const { rootFingerprint } = peekJoinToken(joinToken);
    if (!isFingerprint(rootFingerprint)) {
      throw usage('the join token carries no root CA fingerprint (rca): it is not one from `meridian token create --region NAME` of a global controller of this version; create a new one');
    }
    // The region's end of the WireGuard backhaul, which the zone controller runs.
    const tunnelAddress = str('tunnel-address');
    if (tunnelAddress === undefined) throw usage("--role region needs --tunnel-address IP (this region's address in the tunnel range, the Region's tunnel.address)");
    if (publicAddress === undefined) throw usage('--role region needs --public-address ADDR (where the other regions send WireGuard)');
    const ifname = str('tunnel-interface') ?? tunnelInterface(region);
    try {
      checkIfname(ifname);
    } catch (err) {
      throw usage(`--tunnel-interface: ${(err as Error).message}`);
    }
    return {
      ...common,
      region,
      globalAddress,
      joinToken,
      rootFingerprint,
      tunnelAddress: parseTunnelAddress(tunnelAddress),
      tunnelInterface: ifname,
      etcdPeers: [],
    };
  }

  for (const name of ['region', 'global', 'join-token', 'join-token-file', 'tunnel-address', 'tunnel-interface'] as const) {
    if (str(name) !== undefined) throw usage(`--${name} is for --role region`);
  }
  const adminToken = readSecret(undefined, str('admin-token-file'), 'MERIDIAN_ADMIN_TOKEN', env.MERIDIAN_ADMIN_TOKEN, 'admin-token');
  const trustDomain = str('trust-domain') ?? DEFAULT_TRUST_DOMAIN;
  if (!isTrustDomain(trustDomain)) throw usage(`--trust-domain "${trustDomain}" is not lower-case DNS labels separated by dots (e.g. meridian.local)`);
  return { ...common, etcdPeers: parseEtcdPeers(str('etcd-peers'), nodeName), adminToken, dataKey: readDataKey(str('data-key-file')), trustDomain };
}

function usage(message: string): UsageError {
  return new UsageError(message, COMMAND);
}

function isAddress(s: string): boolean {
  return IPV4.test(s) || /^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/.test(s) || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s);
}

// A token given inline, in a file, or in the environment (in that order). The
// file form keeps it out of `ps` and shell history; cloud-init uses it. Every
// source is held to lib/auth/token-rule, whose characters also need no
// escaping in systemd's files and a shell-free command line.
function readSecret(inline: string | undefined, file: string | undefined, envName: string, fromEnv: string | undefined, flagName: string): string | undefined {
  if (inline !== undefined && file !== undefined) throw usage(`give --${flagName} or --${flagName}-file, not both`);
  let value = inline;
  let source = `--${flagName}`;
  if (file !== undefined) {
    try {
      value = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw usage(`--${flagName}-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
    source = `--${flagName}-file ${file}`;
  }
  if (value === undefined && fromEnv?.trim()) {
    value = fromEnv.trim();
    source = envName;
  }
  // The token itself never appears in an error message.
  if (value !== undefined) {
    try {
      checkToken(value, source);
    } catch (err) {
      throw usage((err as Error).message);
    }
  }
  return value;
}

// `--etcd-peers gc-1=http://10.0.1.10:2380,gc-2=...`, etcd's own
// --initial-cluster syntax. Without it the node runs a one-member etcd.
function parseEtcdPeers(value: string | undefined, nodeName: string): EtcdPeer[] {
  if (value === undefined) return [{ name: nodeName, peerUrl: 'http://127.0.0.1:2380', host: '127.0.0.1' }];
  const peers: EtcdPeer[] = [];
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9][-a-z0-9]*)=(https?):\/\/([^/:\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(item);
    if (!m) throw usage(`--etcd-peers: "${item}" is not NAME=http://HOST:PORT`);
    if (peers.some((p) => p.name === m[1])) throw usage(`--etcd-peers: "${m[1]}" is listed twice`);
    peers.push({ name: m[1]!, peerUrl: `${m[2]}://${m[3]}:${m[4]}`, host: m[3]! });
  }
  if (!peers.some((p) => p.name === nodeName)) {
    throw usage(`--etcd-peers does not list this node ("${nodeName}"); give --node-name or add it`);
  }
  return peers;
}

// IP or IP/32: each region is one /32 in the tunnel range (the zone
// controller routes the others' /32s through the interface), so a wider
// prefix would be a mistake, not a setting.
function parseTunnelAddress(value: string): string {
  const m = /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(value);
  if (!m || !IPV4.test(m[1]!)) throw usage(`--tunnel-address "${value}" is not an IPv4 address`);
  if (m[2] !== undefined && m[2] !== '32') throw usage(`--tunnel-address "${value}": give the address alone or as /32 (each region is one /32 of the tunnel range)`);
  return m[1]!;
}

// The data key as text (hex or base64, as `openssl rand -hex 32` makes it),
// so that it can be written as a file like any other; checked as the global
// controller will check it. Its bytes never appear in a message.
function readDataKey(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw usage(`--data-key-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  const text = bytes.toString('utf8').trim();
  if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw usage(`--data-key-file ${file}: must be one line of hex or base64 (e.g. openssl rand -hex 32)`);
  try {
    dataKeyFromBytes(text, `--data-key-file ${file}`);
  } catch (err) {
    throw usage((err as Error).message);
  }
  return text;
}

function resolveMeridianBin(given: string | undefined): string {
  if (given !== undefined) {
    if (!path.isAbsolute(given)) throw usage(`--meridian-bin must be an absolute path, got "${given}"`);
    return given;
  }
  // The package's own bin/meridian, so the units run exactly this install.
  return fs.realpathSync(meridianBin());
}
