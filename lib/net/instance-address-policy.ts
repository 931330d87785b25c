// Where an instance may be registered: inside one of its Region's instance
// networks (spec.instanceNetworks), or the private ranges when the Region
// names none. Some addresses are refused whatever the Region says: an
// instance there would have the edge send public traffic to the node itself
// (link-local), to the cloud's metadata service, or nowhere in particular
// (unspecified, multicast, broadcast).
import { contains, embeddedIpv4, formatIp, parseIp, parseIpNetwork, type IpAddress, type IpNetwork } from './ip-network';

// RFC 1918 and IPv6 unique local addresses.
export const DEFAULT_INSTANCE_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;

// Checked before the Region's networks, and before anything they contain.
const ALWAYS_REFUSED: { network: IpNetwork; why: string }[] = [
  ['169.254.169.254/32', 'a cloud metadata service address'],
  ['fd00:ec2::254/128', 'a cloud metadata service address'],
  ['100.100.100.200/32', 'a cloud metadata service address'],
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['::/128', 'the unspecified address'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['255.255.255.255/32', 'the broadcast address'],
].map(([text, why]) => ({ network: parseIpNetwork(text!), why: why! }));

const LOOPBACK = ['127.0.0.0/8', '::1/128'].map((n) => parseIpNetwork(n));

// Why no Region may have an instance at this address, or undefined.
export function alwaysRefused(addressText: string): string | undefined {
  const address = parseIp(addressText);
  if (!address) return `${JSON.stringify(addressText)} is not an IPv4 or IPv6 address`;
  const why = unusableAddress(address);
  return why === undefined ? undefined : `${addressText} is ${why}; instances are never registered there`;
}

// What makes an address no place to send a workload's or the edge's traffic
// (a metadata service, link-local, unspecified, multicast, broadcast), or undefined.
export function unusableAddress(address: IpAddress): string | undefined {
  const v4 = embeddedIpv4(address);
  for (const a of v4 ? [address, v4] : [address]) {
    const refused = ALWAYS_REFUSED.find((r) => contains(r.network, a));
    if (refused) return refused.why;
  }
  return undefined;
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

export class InstanceAddressPolicy {
  private readonly networks: IpNetwork[];
  private readonly fromRegion: boolean;

  // `networks` are the Region's (already validated by the schema); none or
  // undefined: the private ranges.
  constructor(networks: readonly string[] | undefined) {
    this.fromRegion = !!networks?.length;
    this.networks = (this.fromRegion ? networks! : DEFAULT_INSTANCE_NETWORKS).map((n) => parseIpNetwork(n));
  }

  check(addressText: string): AddressVerdict {
    const refused = alwaysRefused(addressText);
    if (refused) return { ok: false, reason: refused };
    const address = parseIp(addressText)!;
    // An IPv4 host written as IPv6 is judged by the IPv4 networks.
    const judged = embeddedIpv4(address) ?? address;
    if (this.networks.some((n) => contains(n, judged))) return { ok: true };
    return { ok: false, reason: this.outsideReason(addressText, judged) };
  }

  private outsideReason(addressText: string, address: IpAddress): string {
    const where = this.fromRegion
      ? `the region's instance networks (spec.instanceNetworks: ${this.networks.map((n) => n.text).join(', ')})`
      : `the private ranges (${DEFAULT_INSTANCE_NETWORKS.join(', ')}), the default when the Region sets no spec.instanceNetworks`;
    const loopback = LOOPBACK.some((n) => contains(n, address)) ? ' (loopback is allowed only when the Region lists it)' : '';
    return `${addressText === formatIp(address) ? addressText : `${addressText} (${formatIp(address)})`} is outside ${where}${loopback}`;
  }
}
