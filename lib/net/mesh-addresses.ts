// The addresses a proxy's mesh listener is reached at, as it reports them to
// its zone (ProxyReport.mesh_addresses) and the zone DNS gives them out for
// <service>.mesh: IP literals in one spelling each, a few per proxy. The
// edge holds --mesh-advertise to the same rule, so a report it sends is one
// the zone takes.
import { isIP } from 'node:net';
import { unusableAddress } from './instance-address-policy';
import { parseIp } from './ip-network';

// More than any one host has interfaces to advertise; keeps a DNS answer of
// every proxy of a region within a UDP response.
export const MAX_MESH_ADDRESSES = 16;

// Why `addresses` cannot be a proxy's mesh addresses, naming the field and
// the entry; undefined when they can.
export function meshAddressesProblem(addresses: readonly unknown[], field = 'mesh_addresses'): string | undefined {
  if (addresses.length > MAX_MESH_ADDRESSES) return `${field}: at most ${MAX_MESH_ADDRESSES} addresses, got ${addresses.length}`;
  for (const [i, a] of addresses.entries()) {
    // A zone id (fe80::1%eth0) means nothing to another host and has no place in an AAAA record.
    if (typeof a !== 'string' || isIP(a) === 0 || a.includes('%')) {
      return `${field}[${i}]: must be an IPv4 or IPv6 address, got ${JSON.stringify(typeof a === 'string' ? a.slice(0, 64) : a)}`;
    }
    // 0.0.0.0 in a DNS answer sends a workload to itself; a metadata service,
    // link-local or multicast address to no mesh listener.
    const unusable = unusableAddress(parseIp(a)!);
    if (unusable !== undefined) return `${field}[${i}]: ${a} is ${unusable}, not an address a workload can call`;
  }
  return undefined;
}

// One spelling per address (`0:0::1` and `::1` are one AAAA record).
export function canonicalMeshAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}
