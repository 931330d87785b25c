// The node's configuration: /etc/meridian/meridian.env, read by every unit
// through EnvironmentFile=, and the secrets files that systemd hands to one
// service each through LoadCredential= (root-owned, mode 0600, never in the
// environment or on a command line).
import { createProxyToken, parseProxyToken } from '../../lib/auth/proxy-token';
import { BIRD_CONFIG, BIRD_SOCKET, PORTS } from './layout';
import type { BootstrapOptions } from './options';

export type EnvEntries = Array<[string, string | undefined]>;

export function nodeEnv(opts: BootstrapOptions): EnvEntries {
  return opts.role === 'region' ? regionEnv(opts) : globalEnv(opts);
}

// Every port listens on all addresses; the firewall (terraform/modules and
// docs/deploy.md) decides who reaches it. The zone's discovery stream is only
// for the edge and ingress on this node, so it stays on loopback. Other
// regions reach the ingress at its tunnel address, through WireGuard.
function regionEnv(opts: BootstrapOptions): EnvEntries {
  return [
    ['MERIDIAN_ROLE', 'region'],
    ['MERIDIAN_NODE', opts.nodeName],
    ['MERIDIAN_REGION', opts.region],
    ['MERIDIAN_GLOBAL', opts.globalAddress],
    // The mesh root the join token names: what \`meridian\` on this node pins
    // the admin API by (MERIDIAN_CA_FINGERPRINT, with MERIDIAN_SERVER=https://...).
    ['MERIDIAN_CA_FINGERPRINT', opts.rootFingerprint],
    ['MERIDIAN_PUBLIC_ADDRESS', opts.publicAddress],
    ['MERIDIAN_TUNNEL_INTERFACE', opts.tunnelInterface],
    ['MERIDIAN_TUNNEL_ADDRESS', opts.tunnelAddress],
    ['MERIDIAN_TUNNEL_ENDPOINT', hostPort(opts.publicAddress!, PORTS.wireguard)],
    ['MERIDIAN_WIREGUARD_PORT', String(PORTS.wireguard)],
    ['MERIDIAN_ZONE_HTTP', `0.0.0.0:${PORTS.zoneHttp}`],
    ['MERIDIAN_ZONE_GRPC', `127.0.0.1:${PORTS.zoneGrpc}`],
    ['MERIDIAN_DNS', `0.0.0.0:${PORTS.dns}`],
    ['MERIDIAN_INGRESS_LISTEN', `0.0.0.0:${PORTS.ingress}`],
    ['MERIDIAN_INGRESS_ADVERTISE', `${opts.tunnelAddress}:${PORTS.ingress}`],
    ['MERIDIAN_INGRESS_ADMIN', `0.0.0.0:${PORTS.ingressAdmin}`],
    ['MERIDIAN_EDGE_HTTP', `0.0.0.0:${PORTS.edgeHttp}`],
    ['MERIDIAN_EDGE_HTTPS', `0.0.0.0:${PORTS.edgeHttps}`],
    ['MERIDIAN_EDGE_ADMIN', `0.0.0.0:${PORTS.edgeAdmin}`],
    ['MERIDIAN_BIRD_CONFIG', BIRD_CONFIG],
    ['MERIDIAN_BIRD_SOCKET', BIRD_SOCKET],
  ];
}

function globalEnv(opts: BootstrapOptions): EnvEntries {
  const self = opts.etcdPeers.find((p) => p.name === opts.nodeName)!;
  const clientUrl = (host: string) => `http://${host}:${PORTS.etcdClient}`;
  const listenClient = self.host === '127.0.0.1' ? [clientUrl('127.0.0.1')] : [clientUrl(self.host), clientUrl('127.0.0.1')];
  return [
    ['MERIDIAN_ROLE', 'global'],
    ['MERIDIAN_NODE', opts.nodeName],
    ['MERIDIAN_PUBLIC_ADDRESS', opts.publicAddress],
    ['MERIDIAN_ETCD_NAME', self.name],
    ['MERIDIAN_ETCD_PEER_URL', self.peerUrl],
    ['MERIDIAN_ETCD_INITIAL_CLUSTER', opts.etcdPeers.map((p) => `${p.name}=${p.peerUrl}`).join(',')],
    ['MERIDIAN_ETCD_LISTEN_CLIENT_URLS', listenClient.join(',')],
    ['MERIDIAN_ETCD_ADVERTISE_CLIENT_URL', clientUrl(self.host)],
    // The controller talks to every member, so losing this node's etcd does
    // not take its controller down with it.
    ['MERIDIAN_ETCD_ENDPOINTS', opts.etcdPeers.map((p) => clientUrl(p.host)).join(',')],
    ['MERIDIAN_FEDERATION', `0.0.0.0:${PORTS.federation}`],
    // The admin API: HTTPS for the network (a certificate from the mesh
    // root, for the names below), plaintext on loopback only.
    ['MERIDIAN_ADMIN_HTTPS', `0.0.0.0:${PORTS.admin}`],
    ['MERIDIAN_ADMIN_HTTP', `127.0.0.1:${PORTS.adminLocal}`],
    ['MERIDIAN_TLS_SAN', tlsNames(opts).join(',') || undefined],
    ['MERIDIAN_TRUST_DOMAIN', opts.trustDomain],
  ];
}

// The addresses clients dial the global node at, for its certificates: its
// public address and its address among the etcd peers.
export function tlsNames(opts: BootstrapOptions): string[] {
  const self = opts.etcdPeers.find((p) => p.name === opts.nodeName);
  return [...new Set([opts.publicAddress, self?.host].filter((h): h is string => !!h && h !== '127.0.0.1'))];
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function renderEnv(entries: EnvEntries): string {
  const lines = [
    '# Meridian node configuration, read by every meridian-* unit (EnvironmentFile=).',
    '# Written by `meridian bootstrap`; run it again rather than editing this file.',
  ];
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    // systemd reads this file without a shell: no quoting, so no spaces.
    if (/[\s"'\\$`]/.test(value)) throw new Error(`${key}: value cannot contain spaces, quotes or '$'`);
    lines.push(`${key}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}

// The zone controller's join token, as the one line its --join-token-file reads.
export function renderJoinToken(token: string): string {
  return `${token}\n`;
}

// The region's proxy bootstrap token (lib/auth/proxy-token.ts), made on the
// node from the root fingerprint of the join token: one line, as
// --proxy-token-file and --zone-token-file read it.
export function renderProxyToken(rootFingerprint: string): string {
  return `${createProxyToken(rootFingerprint)}\n`;
}

// A kept proxy token still serves while it is a token that pins this root; a
// join token made after a root rotation names the new root, and the proxy
// token is made again for it.
export function proxyTokenPins(existing: string, rootFingerprint: string): boolean {
  try {
    return parseProxyToken(existing, 'proxy token').rootFingerprint === rootFingerprint;
  } catch {
    return false;
  }
}

// The data key as the one line --data-key-file reads (hex text).
export function renderDataKey(key: string): string {
  return `${key}\n`;
}

// The global controller's API tokens in its `ROLE TOKEN` format.
export function renderTokens(adminToken: string): string {
  return `# Admin API tokens of the global controller: ROLE TOKEN per line (admin|read).\nadmin ${adminToken}\n`;
}

// systemd-sysusers creates the service user on the node; a file rather than a
// useradd call so that running bootstrap again is a no-op.
export function renderSysusers(): string {
  return [
    '# The user the Meridian services run as. Written by `meridian bootstrap`.',
    'u meridian - "Meridian mesh gateway" /var/lib/meridian /usr/sbin/nologin',
    '',
  ].join('\n');
}

// BIRD needs a config to start; the edge replaces this one with the mesh's
// (the Region's spec.bgp: anycast announcements, upstream neighbors) and runs
// `birdc configure`. Written only when missing, so a second bootstrap keeps
// the mesh's.
export function renderBirdSeed(opts: BootstrapOptions): string {
  const routerId = opts.publicAddress && /^\d+\.\d+\.\d+\.\d+$/.test(opts.publicAddress) ? opts.publicAddress : undefined;
  return [
    '# Seed written by `meridian bootstrap` so that BIRD can start. The edge',
    '# replaces it with the mesh\'s BGP config and runs `birdc configure`.',
    ...(routerId ? [`router id ${routerId};`] : []),
    'protocol device {',
    '  scan time 10;',
    '}',
    '',
  ].join('\n');
}
