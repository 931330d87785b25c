// `meridian bootstrap`: makes this machine a Meridian node (see cli/bootstrap/).
import { bootstrap } from '../bootstrap/bootstrap';
import { parseBootstrapOptions } from '../bootstrap/options';

export const usage = `Usage: meridian bootstrap --role global|region [options]

Makes this machine a Meridian node: installs the Debian packages it needs,
creates the meridian user, writes the configuration under /etc/meridian,
generates the node's keys, writes the systemd units and starts them. Running it
again changes nothing unless a flag changed. Terraform's user data runs it
(terraform/, docs/deploy.md).

Region nodes (zone controller, edge, ingress, WireGuard, BIRD; the edge serves
the certificates in /var/lib/meridian/edge/certs, a self-signed one until yours;
the zone controller runs the tunnel with the key bootstrap makes in
/var/lib/meridian/zone/wireguard, and bootstrap prints its public key; discovery
between the zone controller and its edge and ingress runs mTLS with a proxy
token that bootstrap makes in /etc/meridian/proxy-token, 0600, pinning the
root that the join token names, and keeps while that root stays the same;
MERIDIAN_CA_FINGERPRINT in /etc/meridian/meridian.env names that root, for
meridian commands on the node to verify the admin API by):
  --role region
  --region NAME            the region (at most 11 characters: the tunnel is mrd-NAME)
  --global HOST:PORT       the global controller's federation address
  --join-token TOKEN       from 'meridian token create --region NAME' (one join); or
  --join-token-file FILE   (or MERIDIAN_JOIN_TOKEN); kept in /etc/meridian/join-token, 0600
  --public-address ADDR    where the other regions send WireGuard (UDP 51820)
  --tunnel-address IP      this region's address in the tunnel range (IP or IP/32;
                           the Region's tunnel.address)
  --tunnel-interface NAME  the WireGuard interface (default mrd-NAME)

Global nodes (etcd and the global controller; its admin API over HTTPS on 7401,
with a certificate from the mesh root naming the node's public and peer
addresses, and in plaintext on 127.0.0.1:7402 only):
  --role global
  --etcd-peers LIST        NAME=http://IP:2380,... every member, this node included
                           (default: a one-member etcd on 127.0.0.1)
  --admin-token-file FILE  the admin API token (or MERIDIAN_ADMIN_TOKEN); without it
                           one is generated; either way it is kept in
                           /etc/meridian/tokens, 0600, and never printed
  --data-key-file FILE     the key that seals the mesh CA in etcd (hex or base64 text,
                           e.g. openssl rand -hex 32); the same on every global node.
                           Without it one is generated: copy /etc/meridian/data.key to
                           the other global nodes and give it to them with this flag
  --trust-domain NAME      the SPIFFE trust domain (default meridian.local)

Both:
  --node-name NAME         this node's name (default: the host name)
  --public-address ADDR    this node's public address (required on region nodes)
  --meridian-bin PATH      the meridian the units run (default: this one)
  --root DIR               write everything under DIR instead of /; never runs
                           apt or systemctl (prints what it would run)
  --no-install             do not install packages
  --no-start               do not touch systemd (files only)
  --dry-run                print the plan and what would change; write nothing

Example:
  meridian bootstrap --role region --region fra --global gc.example.com:7400 \\
    --join-token-file /run/meridian/join-token --public-address 203.0.113.10 --tunnel-address 10.99.1.1
  meridian bootstrap --role global --node-name gc-1 --admin-token-file FILE --data-key-file FILE \\
    --etcd-peers gc-1=http://10.0.1.10:2380,gc-2=http://10.0.2.10:2380,gc-3=http://10.0.3.10:2380
`;

export async function run(argv: string[]): Promise<void> {
  const opts = parseBootstrapOptions(argv);
  if (opts === 'help') return void process.stdout.write(usage);
  bootstrap(opts, (line) => process.stdout.write(`${line}\n`));
}
