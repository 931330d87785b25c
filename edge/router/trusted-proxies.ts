// The networks whose forwarding headers an edge believes (--trusted-proxies):
// a load balancer in front of the edge says who its client was in
// x-forwarded-for, and only such a peer may. The client of a request is then
// the right-most address of the chain that is not a trusted proxy (the
// left-most ones were written by whoever connected first, and may be made
// up). Empty by default: no peer is trusted and a client's own forwarding
// headers are replaced.
import { contains, embeddedIpv4, parseIp, parseIpNetwork, type IpNetwork } from '../../lib/net/ip-network';

// Each address is checked against every network: a short list.
export const MAX_TRUSTED_PROXIES = 64;

export class TrustedProxies {
  static readonly NONE = new TrustedProxies([]);

  private constructor(readonly networks: readonly IpNetwork[]) {}

  // "10.0.0.0/8,192.168.1.7,fd00::/8"; throws with what is wrong and where.
  static parse(text: string, flag: string): TrustedProxies {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0) throw new Error(`${flag}: expected one or more networks (CIDR, comma-separated), got '${text}'`);
    if (items.length > MAX_TRUSTED_PROXIES) throw new Error(`${flag}: at most ${MAX_TRUSTED_PROXIES} networks, got ${items.length}`);
    return new TrustedProxies(
      items.map((item) => {
        try {
          return parseIpNetwork(item);
        } catch (err) {
          throw new Error(`${flag}: ${(err as Error).message}`);
        }
      }),
    );
  }

  get empty(): boolean {
    return this.networks.length === 0;
  }

  // An address that is not an IP literal (a made-up x-forwarded-for entry) is
  // not trusted. "::ffff:10.0.0.1" is the IPv4 host it embeds.
  trusts(address: string | undefined): boolean {
    if (address === undefined || this.networks.length === 0) return false;
    const ip = parseIp(address);
    if (ip === undefined) return false;
    const v4 = embeddedIpv4(ip);
    for (const network of this.networks) {
      if (contains(network, ip) || (v4 !== undefined && contains(network, v4))) return true;
    }
    return false;
  }

  // The client behind a trusted peer: walking x-forwarded-for from the right,
  // the first address that is not a trusted proxy; the left-most one when all
  // are (or the peer when the header is empty).
  clientOf(forwardedFor: string | undefined, peer: string | undefined): string | undefined {
    if (forwardedFor === undefined) return peer;
    const chain = forwardedFor.split(',');
    let leftMost: string | undefined = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      const address = chain[i].trim();
      if (address === '') continue;
      if (!this.trusts(address)) return address;
      leftMost = address;
    }
    return leftMost;
  }
}
