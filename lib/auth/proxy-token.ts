// A region's proxy bootstrap token: `mpt1.<secret>.<root fingerprint hex>`.
// The zone controller (--proxy-token-file) checks the secret on a proxy's
// first certificate request, before the proxy has a leaf; the proxy
// (--zone-token-file) checks the zone's TLS certificate on first contact with
// the root the fingerprint names. After that the proxy's leaf authenticates it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PREFIX = 'mpt1';
const FORMAT = /^mpt1\.([A-Za-z0-9_-]{32,})\.([0-9a-f]{64})$/;

export interface ProxyToken {
  secret: string;
  rootFingerprint: string; // sha256:<hex>
}

export function createProxyToken(rootFingerprint: string): string {
  const hex = rootFingerprint.replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a root fingerprint: ${rootFingerprint}`);
  return `${PREFIX}.${randomBytes(32).toString('base64url')}.${hex}`;
}

export function parseProxyToken(text: string, source: string): ProxyToken {
  const m = FORMAT.exec(text.trim());
  if (!m) throw new Error(`${source}: not a proxy token (mpt1.<secret>.<root sha256>); the zone's operator makes one with 'meridian token create --proxy'`);
  return { secret: m[1]!, rootFingerprint: `sha256:${m[2]}` };
}

export function readProxyToken(file: string, flag: string): ProxyToken {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${flag} ${file}: ${(err as Error).message}`);
  }
  return parseProxyToken(text, `${flag} ${file}`);
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
