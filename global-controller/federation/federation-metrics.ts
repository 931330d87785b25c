import { prom, type Registry } from '../../lib/observability/metrics';

export interface FederationMetrics {
  connectedZones: prom.Gauge;
  refusedJoins: prom.Counter;
  snapshotsSent: prom.Counter;
  deltasSent: prom.Counter;
  nacks: prom.Counter;
  reports: prom.Counter;
}

export function createFederationMetrics(registry: Registry): FederationMetrics {
  return {
    connectedZones: new prom.Gauge({ name: 'meridian_federation_connected_zones', help: 'Zone streams connected to this replica', registers: [registry] }),
    refusedJoins: new prom.Counter({ name: 'meridian_federation_refused_joins_total', help: 'Zone streams refused for a bad join token', registers: [registry] }),
    snapshotsSent: new prom.Counter({ name: 'meridian_federation_snapshots_sent_total', help: 'Full snapshots sent to zones', registers: [registry] }),
    deltasSent: new prom.Counter({ name: 'meridian_federation_deltas_sent_total', help: 'Delta messages sent to zones', registers: [registry] }),
    nacks: new prom.Counter({ name: 'meridian_federation_nacks_total', help: 'Versions zones refused', registers: [registry] }),
    reports: new prom.Counter({ name: 'meridian_federation_reports_total', help: 'Zone reports received', registers: [registry] }),
  };
}
