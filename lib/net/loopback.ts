// Loopback tests for listen addresses and for callers: what "plaintext only on
// loopback" and "loopback callers only" mean everywhere (DESIGN.md, trust).
import { isIP } from 'node:net';

// A listen or server address that stays on this host: 127.0.0.0/8, ::1,
// localhost. 0.0.0.0 and :: are every address, so not loopback.
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return isLoopbackAddress(h);
}

// The peer address of a socket (req.socket.remoteAddress): IPv4 loopback,
// also as an IPv4-mapped IPv6 address, or ::1. Undefined (a destroyed
// socket) is not loopback.
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}
