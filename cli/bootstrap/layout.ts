// Where a Meridian node keeps things and which ports its parts listen on. One
// place, so the units, the config, the firewall rules in terraform/ and
// docs/deploy.md can be checked against each other.
export const CONFIG_DIR = '/etc/meridian';
export const ENV_FILE = `${CONFIG_DIR}/meridian.env`;
export const JOIN_TOKEN_FILE = `${CONFIG_DIR}/join-token`;
// The region's proxy bootstrap token (mpt1.<secret>.<root sha256>), made on
// the node: the zone controller's --proxy-token-file and the edge's and
// ingress's --zone-token-file, so discovery runs mTLS.
export const PROXY_TOKEN_FILE = `${CONFIG_DIR}/proxy-token`;
export const TOKENS_FILE = `${CONFIG_DIR}/tokens`;
// The key that seals the mesh CA in etcd: the same on every global node.
export const DATA_KEY_FILE = `${CONFIG_DIR}/data.key`;
// Region nodes: the key that seals the zone controller's CA and WireGuard
// keys in its state directory, made on the node and held apart from that
// directory (the unit hands it over with LoadCredential=).
export const STATE_KEY_FILE = `${CONFIG_DIR}/state.key`;

// State lives under /var/lib/meridian, one directory per part, created and
// owned by systemd (StateDirectory=) so the services can write there while
// the rest of the file system stays read-only to them.
export const STATE_DIR = '/var/lib/meridian';
export const ZONE_STATE_DIR = `${STATE_DIR}/zone`;
// The zone controller owns the tunnel and its key: it opens (or makes) the
// key sealed with the state key at <state dir>/wireguard/private.key.sealed
// (zone-controller/tunnel). Bootstrap makes it there first, so that it can
// print the public key. private.key is where older versions kept it in the
// clear: its key is sealed and the zone controller removes the file.
export const WIREGUARD_DIR = `${ZONE_STATE_DIR}/wireguard`;
export const WIREGUARD_PRIVATE_KEY = `${WIREGUARD_DIR}/private.key`;
export const WIREGUARD_SEALED_KEY = `${WIREGUARD_DIR}/private.key.sealed`;
export const WIREGUARD_PUBLIC_KEY = `${WIREGUARD_DIR}/public.key`;
// wireguard-go's control sockets (kernels without WireGuard), root-only 0700
// unless the tunnel unit hands its socket to the service user.
export const WIREGUARD_GO_SOCKET_DIR = '/run/wireguard';
export const BIRD_CONFIG = `${STATE_DIR}/bird/bird.conf`;
export const BIRD_SOCKET = '/run/meridian-bird/bird.ctl';
// The edge's certificates, NAME.crt next to NAME.key (SNI picks; default.crt
// is the fallback). In the edge's state directory, so it can read the keys.
export const EDGE_CERT_DIR = `${STATE_DIR}/edge/certs`;
export const EDGE_DEFAULT_CERT = `${EDGE_CERT_DIR}/default.crt`;
export const EDGE_DEFAULT_KEY = `${EDGE_CERT_DIR}/default.key`;

export const UNIT_DIR = '/etc/systemd/system';
export const SYSUSERS_FILE = '/etc/sysusers.d/meridian.conf';
export const SERVICE_USER = 'meridian';

export const PORTS = {
  federation: 7400,
  // The admin API over HTTPS, for the network.
  admin: 7401,
  // The admin API in plaintext, on loopback only (tools on the node).
  adminLocal: 7402,
  etcdClient: 2379,
  etcdPeer: 2380,
  zoneHttp: 7500,
  zoneGrpc: 7501,
  dns: 5353,
  ingress: 7600,
  ingressAdmin: 7601,
  edgeAdmin: 7602,
  edgeHttp: 80,
  edgeHttps: 443,
  wireguard: 51820,
} as const;

export const DEFAULT_TRUST_DOMAIN = 'meridian.local';

/** The tunnel interface unless --tunnel-interface names another. */
export function tunnelInterface(region: string): string {
  return `mrd-${region}`;
}
