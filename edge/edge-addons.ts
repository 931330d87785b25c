// What `meridian edge` runs beside the gateway, by its flags: the anycast
// controller (--bird-socket/--bird-config: announce while healthy, withdraw
// first on SIGTERM) and, in controlled mode, the reports to the zone
// controller (with the mesh listener's addresses, for the zone DNS).
// Attached before the gateway starts so they see its first view.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../lib/observability/logger';
import { AnycastController } from './anycast/anycast-controller';
import type { AnycastOptions } from './anycast/anycast-options';
import type { ViewSource } from './config/edge-view';
import type { EdgeGateway } from './gateway';
import { ZoneReporter } from './zone-report/zone-reporter';

export interface EdgeAddons {
  anycast: AnycastController | undefined;
  reporter: ZoneReporter | undefined;
  // After gateway.start(): the listeners are up.
  start(): void;
}

export function attachAddons(
  gateway: EdgeGateway,
  source: ViewSource,
  o: { mode: 'edge' | 'ingress'; name: string; zone?: string; zoneCredentials?: grpc.ChannelCredentials; anycast?: AnycastOptions },
  logger: Logger,
): EdgeAddons {
  const anycast = o.anycast ? new AnycastController(gateway, source, o.anycast, logger) : undefined;
  if (anycast) {
    gateway.addObserver(anycast);
    gateway.beforeDrain = () => anycast.withdrawForDrain();
  }
  const reporter =
    o.zone !== undefined
      ? new ZoneReporter({
          address: o.zone,
          credentials: o.zoneCredentials,
          proxy: o.name,
          mode: o.mode,
          metrics: gateway.metrics,
          healthy: () => (anycast ? anycast.healthy : gateway.health().ok),
          announcing: () => anycast?.announcing ?? false,
          meshAddresses: () => gateway.meshAddresses(),
          logger,
        })
      : undefined;
  if (reporter) {
    gateway.addObserver(reporter);
    anycast?.on('change', () => reporter.nudge());
  }
  return {
    anycast,
    reporter,
    start() {
      anycast?.start();
      reporter?.start();
    },
  };
}
