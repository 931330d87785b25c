// The ingress side of a TCP connection from another region's edge: the
// HTTP/1.1 upgrade to meridian-tcp (tcp-protocol.ts). Taken only on a TLS
// connection whose caller is a verified mesh peer (the IngressAuthorizer
// when the ingress has one, as for requests and WebSocket upgrades; else the
// listener's own client certificate check), for a Service port with protocol
// tcp, from a caller TrafficPermission lets call the service. Then a local
// instance is connected (failover across local instances, tcp-target.ts),
// the edge gets `101 Switching Protocols` and the two sockets are piped. No
// instance reached: 503 (none to try) or 502 (every try failed), so the
// edge tries its next region.
//
// An upgrade naming another region (x-meridian-target-region, an edge whose
// direct tunnel to it is down) is relayed as requests are
// (relay/relay-decision.ts: straight from an edge only, to a region this
// ingress reaches directly): the same upgrade goes to the target's ingress
// (hop count + 1, the source identity only when this ingress took the
// caller's word for it), its 101 is answered with a 101 and the two sockets
// are piped. No 101 from there: 502 (or 503), and the edge tries its next region.
import type { IncomingMessage } from 'node:http';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '../../lib/observability/logger';
import type { Backend } from '../backend/backend';
import type { EdgeView } from '../config/edge-view';
import { isRefusal, type IngressAuthorizer } from '../identity/ingress-authorizer';
import { decideRelay } from '../relay/relay-decision';
import { sendRawReply } from '../request/local-reply';
import { EDGE_HEADER, REGION_HEADER } from '../request/response-headers';
import { ClientBuffer } from './tcp-client-buffer';
import type { TcpMetrics, TcpRefusal } from './tcp-metrics';
import { pipeTcp } from './tcp-pipe';
import { HOP_HEADER, hopsOf, isTcpUpgrade, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER, TARGET_REGION_HEADER, TCP_UPGRADE_PROTOCOL } from './tcp-protocol';
import { isLeg } from './tcp-target';
import { startClientDial } from './client-dial';

export interface TcpIngressContext {
  name: string;
  region: string;
  metrics: TcpMetrics;
  logger: Logger;
  authorizer: IngressAuthorizer | undefined;
  // Hops a connection may make (--max-hops): bounds relaying.
  maxHops: number;
  // A connection to another region's ingress (mesh mTLS), for a relayed upgrade.
  openIngressConnection(address: string): net.Socket;
  view(): EdgeView;
  backendFor(service: string, portName: string): Backend | undefined;
  draining(): boolean;
}

// false when the request is not a meridian-tcp upgrade (the caller goes on
// with it); else the connection is handled here and `done` runs once it closed.
export function handleTcpUpgrade(ctx: TcpIngressContext, req: IncomingMessage, socket: net.Socket, head: Buffer, done: () => void): boolean {
  if (!isTcpUpgrade(req.headers.upgrade)) return false;
  serveTcpUpgrade(ctx, req, socket, head, done);
  return true;
}

function serveTcpUpgrade(ctx: TcpIngressContext, req: IncomingMessage, socket: net.Socket, head: Buffer, done: () => void): void {
  socket.on('error', () => socket.destroy());
  socket.once('close', done);
  const refuse = (reason: TcpRefusal, status: number, message: string) => {
    ctx.metrics.refuse(reason);
    sendRawReply(socket, status, message, ctx.name, status === 503 ? { retryAfterSeconds: 1 } : undefined);
  };
  if (ctx.draining()) return refuse('draining', 503, 'this gateway is draining');
  if (!(socket instanceof tls.TLSSocket)) return refuse('caller', 403, `${TCP_UPGRADE_PROTOCOL} is taken only over mesh mTLS`);
  const caller = ctx.authorizer?.authenticate(req);
  if (caller !== undefined && isRefusal(caller)) return refuse('caller', caller.status, caller.message);
  if (caller === undefined && !socket.authorized) return refuse('caller', 403, 'a verified mesh client certificate is required');

  const service = req.headers[SERVICE_HEADER];
  const portName = req.headers[PORT_HEADER];
  if (typeof service !== 'string' || typeof portName !== 'string') return refuse('bad-request', 400, `${SERVICE_HEADER} and ${PORT_HEADER} are required`);
  const view = ctx.view();
  const port = view.services.get(service)?.spec.ports.find((p) => p.name === portName);
  if (port === undefined || port.protocol !== 'tcp') return refuse('bad-request', 404, `service '${service}' has no tcp port named '${portName}'`);
  const rawSource = req.headers[SOURCE_IDENTITY_HEADER];
  const source = typeof rawSource === 'string' ? rawSource : undefined;
  const denied = caller !== undefined ? ctx.authorizer!.permit(caller, service, req, source) : undefined;
  if (denied !== undefined) return refuse('not-allowed', denied.status, denied.message);
  const backend = ctx.backendFor(service, portName);
  if (backend === undefined) return refuse('no-target', 503, `no instance of service '${service}' in region '${ctx.region}'`);

  const targetRegion = req.headers[TARGET_REGION_HEADER];
  const hops = hopsOf(req.headers[HOP_HEADER]);
  const relay = decideRelay(ctx.region, ctx.maxHops, typeof targetRegion === 'string' ? targetRegion : undefined, hops, backend.relays);
  if (relay.kind === 'refuse') return refuse('relay', relay.status, relay.message);
  // Relayed: the target region's ingress, with the source identity passed on
  // only when a verified proxy said it and permit took its word.
  const dial =
    relay.kind === 'forward'
      ? {
          plan: [relay.target],
          hops,
          remote: { open: ctx.openIngressConnection, sourceIdentity: caller !== undefined ? ctx.authorizer!.vouchedSource(caller, source) : undefined },
        }
      : {};

  const buffer = new ClientBuffer(socket);
  startClientDial({ backend, service, portName, metrics: ctx.metrics, ...dial }, socket, buffer, ctx.metrics, (result) => {
    if (!isLeg(result)) {
      buffer.discard();
      if (result.noTarget) return refuse('no-target', 503, result.detail);
      ctx.metrics.connection(service, portName, result.region, 'connect-failed');
      const tries = result.tries === 1 ? '1 try' : `${result.tries} tries`;
      const what = relay.kind === 'forward' ? `region '${relay.target.name}' could not be reached through region '${ctx.region}'` : `no instance of service '${service}' port '${portName}' could be connected`;
      sendRawReply(socket, 502, `${what}: ${result.detail} (${tries})`, ctx.name);
      return;
    }
    const upstream = result.socket;
    // The edge's half-close is passed on; the instance's answer still goes back.
    socket.allowHalfOpen = true;
    // The region that serves it: this one, or the target ingress's word for a relayed one.
    ctx.metrics.connection(service, portName, result.region, 'connected');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TCP_UPGRADE_PROTOCOL}\r\n${REGION_HEADER}: ${result.region}\r\n${EDGE_HEADER}: ${ctx.name}\r\n\r\n`);
    // What the target ingress sent after its 101 (a relayed leg's first bytes).
    if (result.head.length > 0) socket.write(result.head);
    if (head.length > 0) upstream.write(head);
    const early = head.length + buffer.flushTo(upstream);
    pipeTcp(socket, upstream, backend.policy.idleTimeoutMs, ctx.metrics, { service, port: portName }, { in: early, out: result.head.length }, () => undefined);
  });
}
