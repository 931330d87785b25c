// One client connection on an edge's TCP listener: its service's backend,
// the dial (tcp-target.ts) while what the client sends is held
// (tcp-client-buffer.ts), then the pipe (tcp-pipe.ts) with the service's idle
// timeout. A connection that cannot be served is closed: the client sees
// its TCP connection end, there is no protocol to say why in.
import type * as net from 'node:net';
import type { Logger } from '../../lib/observability/logger';
import type { Backend } from '../backend/backend';
import type { EdgeView } from '../config/edge-view';
import { ClientBuffer } from './tcp-client-buffer';
import type { TcpMetrics } from './tcp-metrics';
import { pipeTcp } from './tcp-pipe';
import { isLeg } from './tcp-target';
import { startClientDial } from './client-dial';

// The Service port a TCP listener serves.
export interface TcpPortBinding {
  service: string;
  portName: string;
  port: number;
}

export type TcpScope = 'public' | 'mesh';

export interface TcpConnectionContext {
  metrics: TcpMetrics;
  logger: Logger;
  view(): EdgeView;
  backendFor(service: string, portName: string): Backend | undefined;
  openIngressConnection(address: string): net.Socket;
  // The caller identity passed to a remote ingress, if any.
  sourceIdentity?(remoteAddress: string, service: string, scope: TcpScope): string | undefined;
}

export function serveTcpConnection(ctx: TcpConnectionContext, client: net.Socket, binding: TcpPortBinding, scope: TcpScope, done: () => void): void {
  const { service, portName } = binding;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  client.on('error', () => client.destroy());
  client.once('close', finish);
  const backend = ctx.backendFor(service, portName);
  if (backend === undefined) {
    ctx.metrics.refuse('no-target');
    client.destroy();
    return;
  }
  const buffer = new ClientBuffer(client);
  const remoteAddress = client.remoteAddress ?? '';
  startClientDial(
    {
      backend,
      service,
      portName,
      remote: { open: ctx.openIngressConnection, sourceIdentity: ctx.sourceIdentity?.(remoteAddress, service, scope) },
      metrics: ctx.metrics,
    },
    client,
    buffer,
    ctx.metrics,
    (result) => {
      if (!isLeg(result)) {
        if (result.noTarget) ctx.metrics.refuse('no-target');
        else ctx.metrics.connection(service, portName, result.region, 'connect-failed');
        ctx.logger.debug({ service, port: portName, remote: remoteAddress, tries: result.tries, kind: result.kind, detail: result.detail }, 'tcp connection not served');
        buffer.discard();
        client.destroy();
        return;
      }
      const upstream = result.socket;
      ctx.metrics.connection(service, portName, result.region, 'connected');
      if (result.head.length > 0) client.write(result.head);
      const early = buffer.flushTo(upstream);
      pipeTcp(client, upstream, backend.policy.idleTimeoutMs, ctx.metrics, { service, port: portName }, { in: early, out: result.head.length }, finish);
    },
  );
}
