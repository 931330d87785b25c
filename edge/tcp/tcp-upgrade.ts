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
import type { IncomingMessage } from 'node:http';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '../../lib/observability/logger';
import type { Backend } from '../backend/backend';
import type { EdgeView } from '../config/edge-view';
import { isRefusal, type IngressAuthorizer } from '../identity/ingress-authorizer';
import { sendRawReply } from '../request/local-reply';
import { EDGE_HEADER, REGION_HEADER } from '../request/response-headers';
import { ClientBuffer } from './tcp-client-buffer';
import type { TcpMetrics, TcpRefusal } from './tcp-metrics';
import { pipeTcp } from './tcp-pipe';
import { isTcpUpgrade, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER, TCP_UPGRADE_PROTOCOL } from './tcp-protocol';
import { isLeg } from './tcp-target';
import { startClientDial } from './client-dial';

export interface TcpIngressContext {
  name: string;
  region: string;
  metrics: TcpMetrics;
  logger: Logger;
  authorizer: IngressAuthorizer | undefined;
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
  const source = req.headers[SOURCE_IDENTITY_HEADER];
  const denied = caller !== undefined ? ctx.authorizer!.permit(caller, service, req, typeof source === 'string' ? source : undefined) : undefined;
  if (denied !== undefined) return refuse('not-allowed', denied.status, denied.message);
  const backend = ctx.backendFor(service, portName);
  if (backend === undefined) return refuse('no-target', 503, `no instance of service '${service}' in region '${ctx.region}'`);

  const buffer = new ClientBuffer(socket);
  startClientDial({ backend, service, portName, metrics: ctx.metrics }, socket, buffer, ctx.metrics, (result) => {
    if (!isLeg(result)) {
      buffer.discard();
      if (result.noTarget) return refuse('no-target', 503, result.detail);
      ctx.metrics.connection(service, portName, ctx.region, 'connect-failed');
      const tries = result.tries === 1 ? '1 try' : `${result.tries} tries`;
      sendRawReply(socket, 502, `no instance of service '${service}' port '${portName}' could be connected: ${result.detail} (${tries})`, ctx.name);
      return;
    }
    const upstream = result.socket;
    // The edge's half-close is passed on; the instance's answer still goes back.
    socket.allowHalfOpen = true;
    ctx.metrics.connection(service, portName, ctx.region, 'connected');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TCP_UPGRADE_PROTOCOL}\r\n${REGION_HEADER}: ${ctx.region}\r\n${EDGE_HEADER}: ${ctx.name}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    const early = head.length + buffer.flushTo(upstream);
    pipeTcp(socket, upstream, backend.policy.idleTimeoutMs, ctx.metrics, { service, port: portName }, { in: early, out: 0 }, () => undefined);
  });
}
