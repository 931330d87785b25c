// Which HTTP/1.1 upgrades go further. Only WebSocket is forwarded as an
// upgrade (request/upgrade-exchange.ts). `Upgrade: h2c` (RFC 7540 3.2, the
// upgrade curl --http2 asks for on http:// URLs) is ignored, as RFC 9113 3.1
// allows: the request is served as plain HTTP/1.1 on the same connection,
// without Upgrade, HTTP2-Settings or those Connection tokens; a client that
// wants HTTP/2 without TLS uses prior knowledge (h2c-prior-knowledge.ts).
// Any other protocol is answered 400 by the upgrade exchange.
//
// node hands a request with `Connection: upgrade` to the 'upgrade' event
// with its socket detached from the HTTP/1.1 parser; to serve it as a plain
// request, its head is written again without the upgrade, put back in front
// of what the client sent after it, and the socket given back to node's
// HTTP/1.1 connection handling, which parses it as it parses any request.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export type UpgradeKind = 'websocket' | 'h2c' | 'other';

// The Upgrade header's protocols, case-insensitively; a list naming websocket
// is a WebSocket upgrade, one naming only h2c an h2c upgrade.
export function upgradeKind(upgrade: string | undefined): UpgradeKind {
  if (upgrade === undefined) return 'other';
  let h2c = false;
  let other = false;
  for (const token of upgrade.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === 'websocket') return 'websocket';
    if (name === 'h2c') h2c = true;
    else if (name !== '') other = true;
  }
  return h2c && !other ? 'h2c' : 'other';
}

// The hop-by-hop headers of an h2c upgrade (RFC 7540 3.2).
const H2C_HEADERS = new Set(['upgrade', 'http2-settings']);

// The request head as the client sent it, without the h2c upgrade.
export function headWithoutUpgrade(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (H2C_HEADERS.has(lower)) continue;
    let value = raw[i + 1];
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !H2C_HEADERS.has(t.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    head += `${raw[i]}: ${value}\r\n`;
  }
  return head + '\r\n';
}

export type Http1ConnectionListener = (socket: Socket) => void;

// The listener's 'upgrade' handler: h2c served as HTTP/1.1 by `http1` (node's
// HTTP/1.1 connection listener of the same server), the rest to `forward`.
export function filterUpgrades(
  http1: Http1ConnectionListener,
  forward: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if (upgradeKind(req.headers.upgrade) !== 'h2c') return forward(req, socket, head);
    const s = socket as Socket;
    s.pause();
    s.unshift(Buffer.concat([Buffer.from(headWithoutUpgrade(req), 'latin1'), head]));
    http1(s);
    s.resume();
  };
}
