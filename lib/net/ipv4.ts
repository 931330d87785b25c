// Strict IPv4 address and prefix checks: everything rendered into a BIRD
// config or passed to `wg`/`ip` goes through here first, so that a bad value
// fails with its name instead of producing a config that BIRD rejects (or a
// config that says something else than intended).

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const ADDRESS_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIPv4(s: string): boolean {
  return ADDRESS_RE.test(s);
}

export function ipv4ToInt(s: string): number {
  if (!isIPv4(s)) throw new Error(`not an IPv4 address: ${JSON.stringify(s)}`);
  return s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIPv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export interface Prefix {
  address: string;
  length: number;
}

// "10.1.0.0/24" -> { address, length }; a bare address is a /32.
export function parsePrefix(s: string, what = 'prefix'): Prefix {
  const [address, len, ...rest] = s.split('/');
  const length = len === undefined ? 32 : Number(len);
  if (rest.length || !isIPv4(address ?? '') || !/^\d{1,2}$/.test(len ?? '32') || length > 32) {
    throw new Error(`${what}: not an IPv4 prefix: ${JSON.stringify(s)}`);
  }
  return { address: address!, length };
}

// A prefix whose host bits are zero (what a route announces).
export function parseNetwork(s: string, what = 'prefix'): Prefix {
  const p = parsePrefix(s, what);
  const mask = p.length === 0 ? 0 : (0xffffffff << (32 - p.length)) >>> 0;
  if (((ipv4ToInt(p.address) & ~mask) >>> 0) !== 0) {
    throw new Error(`${what}: host bits set in ${JSON.stringify(s)} (network is ${intToIPv4((ipv4ToInt(p.address) & mask) >>> 0)}/${p.length})`);
  }
  return p;
}

export function formatPrefix(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

// "10.1.0.1:51820" -> { host, port }.
export function parseEndpoint(s: string, what = 'endpoint'): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !isIPv4(m[1]!) || port < 1 || port > 65535) throw new Error(`${what}: not an IPv4 address:port: ${JSON.stringify(s)}`);
  return { host: m[1]!, port };
}
