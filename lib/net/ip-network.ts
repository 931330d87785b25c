// IPv4 and IPv6 addresses as numbers, and networks (CIDR) that contain them.
// The registry's address policy (./instance-address-policy.ts) and the
// Region schema's instanceNetworks both read networks through here, so they
// agree on what a network is.
import { isIP } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface IpNetwork {
  family: 4 | 6;
  // The network address (host bits zero) and the prefix length.
  base: bigint;
  length: number;
  // As written, for messages.
  text: string;
}

const BITS = { 4: 32, 6: 128 } as const;

// undefined when `text` is not an address literal. A zone index (`fe80::1%eth0`)
// is not an address here.
export function parseIp(text: string): IpAddress | undefined {
  const family = isIP(text);
  if (family === 4) return { family: 4, value: ipv4Value(text) };
  if (family === 6 && !text.includes('%')) return { family: 6, value: ipv6Value(text) };
  return undefined;
}

// `10.1.0.0/16`, `fd00::/8`; a bare address is a network of one. Host bits
// must be zero, so `10.1.2.3/16` (probably a typo) is refused.
export function parseIpNetwork(text: string): IpNetwork {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (!address) throw new Error(`not an IPv4 or IPv6 network (address/length): ${JSON.stringify(text)}`);
  const bits: number = BITS[address.family];
  let length = bits;
  if (slash !== -1) {
    const lengthText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > bits) {
      throw new Error(`prefix length must be from 0 to ${bits} for an IPv${address.family} network, got ${JSON.stringify(text)}`);
    }
    length = Number(lengthText);
  }
  const base = address.value & mask(address.family, length);
  if (base !== address.value) {
    throw new Error(`${JSON.stringify(text)} has host bits set: the network is ${formatIp({ family: address.family, value: base })}/${length}`);
  }
  return { family: address.family, base, length, text };
}

export function contains(network: IpNetwork, address: IpAddress): boolean {
  return network.family === address.family && (address.value & mask(address.family, network.length)) === network.base;
}

// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, or NAT64's
// `64:ff9b::a00:1`) reaches the IPv4 host: checks apply to that one.
export function embeddedIpv4(address: IpAddress): IpAddress | undefined {
  if (address.family !== 6) return undefined;
  const high = address.value >> 32n;
  if (high === 0xffffn || high === 0x64ff9b0000000000000000n) return { family: 4, value: address.value & 0xffffffffn };
  return undefined;
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((address.value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((address.value >> shift) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function mask(family: 4 | 6, length: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return length === 0 ? 0n : (all >> (bits - BigInt(length))) << (bits - BigInt(length));
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

// node:net has said it is IPv6; the URL parser writes it in one canonical form
// (with any embedded IPv4 in hex) that is simple to expand.
function ipv6Value(text: string): bigint {
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
