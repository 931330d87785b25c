// The metrics of TCP services, edge and ingress alike: connections by
// outcome and serving region, those open now, bytes each way, connections
// refused before any try (by reason) and connect failovers. Bytes are added
// to a per-connection child looked up once, not per chunk by label.
import { prom, type Registry } from '../../lib/observability/metrics';

// How a connection that got past the listener's checks ended its connect phase.
export type TcpOutcome = 'connected' | 'connect-failed' | 'client-closed';

// Why a connection was closed before any try.
export type TcpRefusal = 'limit' | 'caller' | 'no-target' | 'draining' | 'bad-request' | 'not-allowed' | 'relay';

export class TcpMetrics {
  readonly connections: prom.Counter<'service' | 'port' | 'region' | 'outcome'>;
  readonly active: prom.Gauge<'service' | 'port'>;
  readonly bytes: prom.Counter<'service' | 'port' | 'direction'>;
  readonly refused: prom.Counter<'reason'>;
  readonly failovers: prom.Counter<'service' | 'port'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connections = new prom.Counter({
      name: 'meridian_tcp_connections_total',
      help: 'TCP connections past the listener checks, by service, port name, region (the serving one; for connect-failed the last tried; none for client-closed) and outcome (connected, connect-failed, client-closed)',
      labelNames: ['service', 'port', 'region', 'outcome'],
      registers,
    });
    this.active = new prom.Gauge({
      name: 'meridian_tcp_active_connections',
      help: 'TCP connections piped to an upstream now, by service and port name',
      labelNames: ['service', 'port'],
      registers,
    });
    this.bytes = new prom.Counter({
      name: 'meridian_tcp_bytes_total',
      help: 'Bytes through TCP connections, by service, port name and direction (in: from the client, out: to the client)',
      labelNames: ['service', 'port', 'direction'],
      registers,
    });
    this.refused = new prom.Counter({
      name: 'meridian_tcp_refused_total',
      help: 'TCP connections closed before any try, by reason (limit, caller, no-target, draining, bad-request, not-allowed, relay)',
      labelNames: ['reason'],
      registers,
    });
    this.failovers = new prom.Counter({
      name: 'meridian_tcp_connect_failovers_total',
      help: 'TCP connect tries after a failed one (next instance or region), by service and port name',
      labelNames: ['service', 'port'],
      registers,
    });
  }

  connection(service: string, port: string, region: string, outcome: TcpOutcome): void {
    this.connections.labels(service, port, region, outcome).inc();
  }

  refuse(reason: TcpRefusal): void {
    this.refused.labels(reason).inc();
  }
}
