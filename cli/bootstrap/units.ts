// The systemd units of each role. Region nodes: zone controller, edge,
// ingress, the WireGuard interface and BIRD. Global nodes: etcd and the
// global controller. Values come from /etc/meridian/meridian.env (${VAR}), so
// a changed setting is one file and a restart.
import {
  BIRD_CONFIG,
  BIRD_SOCKET,
  DATA_KEY_FILE,
  EDGE_CERT_DIR,
  ENV_FILE,
  JOIN_TOKEN_FILE,
  PROXY_TOKEN_FILE,
  STATE_KEY_FILE,
  SERVICE_USER,
  STATE_DIR,
  TOKENS_FILE,
  WIREGUARD_GO_SOCKET_DIR,
  ZONE_STATE_DIR,
} from './layout';
import type { BootstrapOptions } from './options';
import { tlsNames } from './node-config';
import { hardening, METADATA_ADDRESSES, type UnitFile, type UnitValue } from './systemd-unit';

type Entries = Array<[string, UnitValue | undefined]>;

export function unitsFor(opts: BootstrapOptions): UnitFile[] {
  return opts.role === 'region' ? regionUnits(opts) : globalUnits(opts);
}

/** Distribution units that would fight ours for the same ports: masked. */
export function maskedUnitsFor(opts: BootstrapOptions): string[] {
  return opts.role === 'region' ? ['bird.service'] : ['etcd.service'];
}

function meridian(opts: BootstrapOptions, args: string): string {
  return `${opts.nodeBin} ${opts.meridianBin} ${args}`;
}

function service(opts: {
  name: string;
  comment: string;
  description: string;
  after?: string[];
  requires?: string[];
  wants?: string[];
  service: Entries;
}): UnitFile {
  const after = ['network-online.target', ...(opts.after ?? [])];
  return {
    name: opts.name,
    comment: opts.comment,
    sections: [
      {
        name: 'Unit',
        entries: [
          ['Description', opts.description],
          ['Wants', ['network-online.target', ...(opts.wants ?? [])]],
          ['Requires', opts.requires?.length ? opts.requires : undefined],
          ['After', after],
        ],
      },
      { name: 'Service', entries: opts.service },
      { name: 'Install', entries: [['WantedBy', 'multi-user.target']] },
    ],
  };
}

// A long-running Meridian part: restarted whatever way it stops, as the
// unprivileged service user, hardened.
function partService(extra: Entries, type = 'simple'): Entries {
  return [
    ['Type', type],
    ['User', SERVICE_USER],
    ['Group', SERVICE_USER],
    ['EnvironmentFile', ENV_FILE],
    ...extra,
    ['Restart', 'always'],
    ['RestartSec', '2s'],
    ['LimitNOFILE', 1048576],
    ...hardening(),
  ];
}

function regionUnits(opts: BootstrapOptions): UnitFile[] {
  const zone = service({
    name: 'meridian-zone-controller.service',
    comment: "Meridian zone controller: joins the global controller, serves this region's proxies, runs the WireGuard backhaul.",
    description: 'Meridian zone controller',
    // Restarted with the tunnel interface, which it configures.
    after: ['meridian-wireguard.service'],
    requires: ['meridian-wireguard.service'],
    service: partService([
      // The join token and the proxy token reach the process as files only it can read.
      ['LoadCredential', `join-token:${JOIN_TOKEN_FILE}`],
      ['LoadCredential', `proxy-token:${PROXY_TOKEN_FILE}`],
      // The state key that seals its zone CA and WireGuard keys, held apart from its state directory.
      ['LoadCredential', `meridian-state-key:${STATE_KEY_FILE}`],
      [
        'ExecStart',
        meridian(
          opts,
          // Discovery over mTLS only (docs/identity.md): the proxies present the token's secret, then their leaf.
          'zone-controller --region ${MERIDIAN_REGION} --global ${MERIDIAN_GLOBAL} --join-token-file %d/join-token --proxy-token-file %d/proxy-token ' +
            '--state-key-file %d/meridian-state-key ' +
            '--http ${MERIDIAN_ZONE_HTTP} --grpc ${MERIDIAN_ZONE_GRPC} --dns ${MERIDIAN_DNS} ' +
            `--ingress \${MERIDIAN_INGRESS_ADVERTISE} --state-dir ${ZONE_STATE_DIR} ` +
            '--tunnel-interface ${MERIDIAN_TUNNEL_INTERFACE} --tunnel-address ${MERIDIAN_TUNNEL_ADDRESS} ' +
            '--tunnel-endpoint ${MERIDIAN_TUNNEL_ENDPOINT} --tunnel-listen-port ${MERIDIAN_WIREGUARD_PORT}',
        ),
      ],
      // Its state: the global snapshot, the instances, the region's CA and the WireGuard key (those two sealed).
      ['StateDirectory', 'meridian/zone'],
      ['StateDirectoryMode', '0700'],
      // It sets the tunnel's key, address and peers (`wg set`, `ip`): CAP_NET_ADMIN.
      ['AmbientCapabilities', 'CAP_NET_ADMIN'],
      ['CapabilityBoundingSet', 'CAP_NET_ADMIN'],
    ]),
  });
  const routerId = opts.publicAddress && /^\d+\.\d+\.\d+\.\d+$/.test(opts.publicAddress) ? ' --bgp-router-id ${MERIDIAN_PUBLIC_ADDRESS}' : '';
  const edge = service({
    name: 'meridian-edge.service',
    comment: 'Meridian edge: the public listener on 80 and 443 (the anycast address lands here); drives BIRD.',
    description: 'Meridian edge gateway',
    after: ['meridian-zone-controller.service', 'meridian-bird.service'],
    wants: ['meridian-bird.service'],
    service: partService([
      // The region's proxy token: pins the root, gets the edge its leaf; then
      // discovery (and the Certificate resources it carries) runs mTLS.
      ['LoadCredential', `proxy-token:${PROXY_TOKEN_FILE}`],
      [
        'ExecStart',
        meridian(
          opts,
          'edge --mode edge --region ${MERIDIAN_REGION} --zone ${MERIDIAN_ZONE_GRPC} --zone-token-file %d/proxy-token --name ${MERIDIAN_NODE}-edge ' +
            `--http \${MERIDIAN_EDGE_HTTP} --https \${MERIDIAN_EDGE_HTTPS} --cert ${EDGE_CERT_DIR} --admin \${MERIDIAN_EDGE_ADMIN} ` +
            // Announces the Region's spec.bgp anycast address while healthy;
            // with no spec.bgp (a cloud anycast front) it leaves BIRD alone.
            `--bird-socket \${MERIDIAN_BIRD_SOCKET} --bird-config \${MERIDIAN_BIRD_CONFIG}${routerId}`,
        ),
      ],
      // Its certificates, and the BIRD config it renders.
      ['StateDirectory', ['meridian/edge', 'meridian/bird']],
      // Ports 80 and 443 without running as root.
      ['AmbientCapabilities', 'CAP_NET_BIND_SERVICE'],
      ['CapabilityBoundingSet', 'CAP_NET_BIND_SERVICE'],
      // Announce-while-healthy: the edge withdraws, drains, then exits.
      ['TimeoutStopSec', '60s'],
    ]),
  });
  const ingress = service({
    name: 'meridian-ingress.service',
    comment: "Meridian zone ingress: takes other regions' traffic from the tunnel, mTLS only.",
    description: 'Meridian zone ingress',
    after: ['meridian-zone-controller.service', 'meridian-wireguard.service'],
    service: partService([
      ['LoadCredential', `proxy-token:${PROXY_TOKEN_FILE}`],
      [
        'ExecStart',
        meridian(
          opts,
          // mTLS only, as in the lab: the ingress serves the mesh leaf the
          // zone controller signs for it (asked for over mTLS discovery, with
          // the proxy token) and checks every caller's.
          'edge --mode ingress --region ${MERIDIAN_REGION} --zone ${MERIDIAN_ZONE_GRPC} --zone-token-file %d/proxy-token --name ${MERIDIAN_NODE}-ingress ' +
            '--https ${MERIDIAN_INGRESS_LISTEN} --admin ${MERIDIAN_INGRESS_ADMIN}',
        ),
      ],
      ['StateDirectory', 'meridian/ingress'],
      ['CapabilityBoundingSet', ''],
    ]),
  });
  return [zone, edge, ingress, wireguardUnit(), birdUnit()];
}

// The tunnel interface (mrd-<region> by default): the kernel's WireGuard when
// it has one, wireguard-go otherwise. Only the interface: the zone controller
// owns the rest (its key, made on the node; the port, the address and the
// peers), as it does wherever it runs. Making the interface is what needs
// root (loading the module, starting wireguard-go); wireguard-go's control
// socket is root-only, so it is handed to the service user (`-`: there is no
// socket with the kernel's WireGuard). A oneshot unit cannot have
// Restart=always, so it restarts on failure.
function wireguardUnit(): UnitFile {
  const dev = '${MERIDIAN_TUNNEL_INTERFACE}';
  const create =
    // $$ is systemd's escape for a literal $: the shell gets "$0", the interface.
    `/bin/sh -c 'ip link show dev "$$0" >/dev/null 2>&1 || ip link add dev "$$0" type wireguard 2>/dev/null || ` +
    `wireguard-go "$$0"' ${dev}`;
  return service({
    name: 'meridian-wireguard.service',
    comment: 'Meridian tunnel: the WireGuard interface that the zone controller configures and peers.',
    description: 'Meridian WireGuard tunnel interface',
    service: [
      ['Type', 'oneshot'],
      ['RemainAfterExit', true],
      ['EnvironmentFile', ENV_FILE],
      // As lib/net does: wireguard-go runs only where the kernel has no WireGuard.
      ['Environment', 'WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1'],
      ['ExecStartPre', '-/sbin/modprobe wireguard'],
      ['ExecStart', create],
      ['ExecStartPost', `-/bin/chown ${SERVICE_USER} ${WIREGUARD_GO_SOCKET_DIR}/${dev}.sock`],
      ['ExecStop', `/sbin/ip link delete dev ${dev}`],
      ['Restart', 'on-failure'],
      ['RestartSec', '5s'],
      // Root with only what an interface needs: no ProtectSystem=strict, as
      // wireguard-go keeps its control socket under /run/wireguard.
      ['CapabilityBoundingSet', ['CAP_NET_ADMIN', 'CAP_SYS_MODULE', 'CAP_CHOWN']],
      ['IPAddressDeny', METADATA_ADDRESSES],
      ['NoNewPrivileges', true],
      ['ProtectSystem', 'full'],
      ['ProtectHome', true],
      ['PrivateTmp', true],
    ],
  });
}

// BIRD with the mesh's config (rendered by the edge from the Region's
// spec.bgp), not the distribution's bird.service, which bootstrap masks.
function birdUnit(): UnitFile {
  return service({
    name: 'meridian-bird.service',
    comment: 'Meridian BGP: BIRD announcing the anycast address as the edge configures it.',
    description: 'Meridian BGP speaker (BIRD)',
    service: [
      ['Type', 'simple'],
      ['User', SERVICE_USER],
      ['Group', SERVICE_USER],
      ['ExecStart', `/usr/sbin/bird -f -c ${BIRD_CONFIG} -s ${BIRD_SOCKET}`],
      ['ExecReload', `/usr/sbin/birdc -s ${BIRD_SOCKET} configure`],
      ['StateDirectory', 'meridian/bird'],
      ['RuntimeDirectory', 'meridian-bird'],
      // Routes and BGP's port 179 need these; nothing else does.
      ['AmbientCapabilities', ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']],
      ['CapabilityBoundingSet', ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']],
      ['Restart', 'always'],
      ['RestartSec', '2s'],
      ...hardening(),
    ],
  });
}

function globalUnits(opts: BootstrapOptions): UnitFile[] {
  const etcd = service({
    name: 'meridian-etcd.service',
    comment: "Meridian's store: this node's member of the etcd cluster of the global controllers.",
    description: 'etcd for the Meridian global controller',
    service: partService(
      [
        [
          'ExecStart',
          `/usr/bin/etcd --name \${MERIDIAN_ETCD_NAME} --data-dir ${STATE_DIR}/etcd ` +
            '--listen-peer-urls ${MERIDIAN_ETCD_PEER_URL} --initial-advertise-peer-urls ${MERIDIAN_ETCD_PEER_URL} ' +
            '--listen-client-urls ${MERIDIAN_ETCD_LISTEN_CLIENT_URLS} --advertise-client-urls ${MERIDIAN_ETCD_ADVERTISE_CLIENT_URL} ' +
            '--initial-cluster ${MERIDIAN_ETCD_INITIAL_CLUSTER} --initial-cluster-token meridian --initial-cluster-state new ' +
            // Keep an hour of history (watches resume within it), not all of it until the 2 GB quota.
            '--auto-compaction-mode periodic --auto-compaction-retention 1h',
        ],
        ['StateDirectory', 'meridian/etcd'],
        ['StateDirectoryMode', '0700'],
        ['CapabilityBoundingSet', ''],
        ['TimeoutStartSec', '120s'],
      ],
      // etcd tells systemd when it has joined its cluster.
      'notify',
    ),
  });
  const tlsSan = tlsNames(opts).length > 0 ? ' --tls-san ${MERIDIAN_TLS_SAN}' : '';
  const controller = service({
    name: 'meridian-global-controller.service',
    comment: 'Meridian global controller: resources, federation of the zones, admin API.',
    description: 'Meridian global controller',
    after: ['meridian-etcd.service'],
    wants: ['meridian-etcd.service'],
    service: partService([
      // Secrets reach the process as files only it can read (0400, its user).
      ['LoadCredential', `tokens:${TOKENS_FILE}`],
      ['LoadCredential', `data-key:${DATA_KEY_FILE}`],
      [
        'ExecStart',
        meridian(
          opts,
          // The admin API over HTTPS for the network, plaintext on loopback only.
          'global-controller --etcd ${MERIDIAN_ETCD_ENDPOINTS} --grpc ${MERIDIAN_FEDERATION} --https ${MERIDIAN_ADMIN_HTTPS} --http ${MERIDIAN_ADMIN_HTTP} ' +
            `--tokens-file %d/tokens --replica \${MERIDIAN_NODE} --data-key-file %d/data-key --trust-domain \${MERIDIAN_TRUST_DOMAIN}${tlsSan}`,
        ),
      ],
      ['StateDirectory', 'meridian/global'],
      ['CapabilityBoundingSet', ''],
    ]),
  });
  return [etcd, controller];
}
