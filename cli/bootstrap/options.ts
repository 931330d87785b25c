// The flags of `meridian bootstrap`, checked all at once so that a bad command
// line fails before anything on the machine is touched, with one line saying
// what is wrong.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { meridianBin } from '../../lib/process/meridian-bin';
import { parseCommandArgs, stringOption } from '../args';
import { UsageError } from '../errors';

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
  /** Global nodes: the etcd cluster (this node included) and the admin token, if one was given. */
  etcdPeers: EtcdPeer[];
  adminToken?: string;
  publicAddress?: string;
  /** The WireGuard interface address with its prefix, e.g. 10.99.1.1/16. */
  tunnelAddress?: string;
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
// Tokens end up in files read by systemd and in a shell-free command line:
// no whitespace or quotes, so nothing needs escaping anywhere.
const TOKEN = /^[A-Za-z0-9._~+/=:-]{8,4096}$/;
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
    for (const name of ['etcd-peers', 'admin-token-file'] as const) {
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
    const joinToken = readSecret(str('join-token'), str('join-token-file'), env.MERIDIAN_JOIN_TOKEN, 'join-token');
    if (joinToken === undefined) throw usage('--role region needs --join-token TOKEN or --join-token-file FILE (from `meridian token create`)');
    const tunnelAddress = str('tunnel-address');
    return {
      ...common,
      region,
      globalAddress,
      joinToken,
      tunnelAddress: tunnelAddress === undefined ? undefined : parseTunnelAddress(tunnelAddress),
      etcdPeers: [],
    };
  }

  for (const name of ['region', 'global', 'join-token', 'join-token-file', 'tunnel-address'] as const) {
    if (str(name) !== undefined) throw usage(`--${name} is for --role region`);
  }
  const adminToken = readSecret(undefined, str('admin-token-file'), env.MERIDIAN_ADMIN_TOKEN, 'admin-token');
  return { ...common, etcdPeers: parseEtcdPeers(str('etcd-peers'), nodeName), adminToken };
}

function usage(message: string): UsageError {
  return new UsageError(message, COMMAND);
}

function isAddress(s: string): boolean {
  return IPV4.test(s) || /^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/.test(s) || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s);
}

// A token given inline, in a file, or in the environment (in that order). The
// file form keeps it out of `ps` and shell history; cloud-init uses it.
function readSecret(inline: string | undefined, file: string | undefined, fromEnv: string | undefined, flagName: string): string | undefined {
  if (inline !== undefined && file !== undefined) throw usage(`give --${flagName} or --${flagName}-file, not both`);
  let value = inline;
  if (file !== undefined) {
    try {
      value = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw usage(`--${flagName}-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
  }
  value ??= fromEnv?.trim() || undefined;
  // The token itself never appears in an error message.
  if (value !== undefined && !TOKEN.test(value)) throw usage(`the ${flagName.replace('-', ' ')} has characters a token cannot have (or is shorter than 8)`);
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

function parseTunnelAddress(value: string): string {
  const m = /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(value);
  if (!m || !IPV4.test(m[1]!) || (m[2] !== undefined && Number(m[2]) > 32)) throw usage(`--tunnel-address "${value}" is not IPV4[/PREFIX]`);
  return `${m[1]}/${m[2] ?? '32'}`;
}

function resolveMeridianBin(given: string | undefined): string {
  if (given !== undefined) {
    if (!path.isAbsolute(given)) throw usage(`--meridian-bin must be an absolute path, got "${given}"`);
    return given;
  }
  // The package's own bin/meridian, so the units run exactly this install.
  return fs.realpathSync(meridianBin());
}
