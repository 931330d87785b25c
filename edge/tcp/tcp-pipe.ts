// A connected TCP connection: client and upstream piped both ways
// (request/tunnel.ts: half-close passed on, an error or idleMs without
// traffic either way closes both), its bytes counted each way and its
// place in meridian_tcp_active_connections held until both sides closed.
import type { Socket } from 'node:net';
import { tunnel } from '../request/tunnel';
import type { TcpMetrics } from './tcp-metrics';

export interface PipeLabels {
  service: string;
  port: string;
}

export function pipeTcp(client: Socket, upstream: Socket, idleMs: number, metrics: TcpMetrics, labels: PipeLabels, early: { in: number; out: number }, done: () => void): void {
  const active = metrics.active.labels(labels.service, labels.port);
  const bytesIn = metrics.bytes.labels(labels.service, labels.port, 'in');
  const bytesOut = metrics.bytes.labels(labels.service, labels.port, 'out');
  // What was passed on before the pipe: buffered client bytes, the upstream's first bytes.
  if (early.in > 0) bytesIn.inc(early.in);
  if (early.out > 0) bytesOut.inc(early.out);
  active.inc();
  client.on('data', (chunk: Buffer) => bytesIn.inc(chunk.length));
  upstream.on('data', (chunk: Buffer) => bytesOut.inc(chunk.length));
  upstream.setNoDelay(true);
  client.setNoDelay(true);
  tunnel(client, upstream, idleMs, () => {
    active.dec();
    done();
  });
}
