// Controlled mode: tells the zone controller what it cannot see for itself
// (Discovery.Report): whether this proxy is healthy and announces the anycast
// address, its traffic over the last ~10 s, its requests in flight per
// service (the region's load, for other regions' spill-over) and the
// addresses of its mesh listener (what the zone DNS gives out for
// <service>.mesh; none while draining). Sent every
// second, and at once when health or the announcement flips. A zone
// controller that is away is retried on the next tick; nothing queues up.
import * as grpc from '@grpc/grpc-js';
import { discoveryProto } from '../../lib/grpc/protos';
import type { Logger } from '../../lib/observability/logger';
import type { DiscoveryClient } from '../../proto/generated/meridian/discovery/v1/Discovery';
import type { ProxyReport } from '../../proto/generated/meridian/discovery/v1/ProxyReport';
import type { EdgeMetrics } from '../observability/edge-metrics';
import type { GatewayObserver } from '../observability/gateway-observer';
import { TrafficWindow } from './traffic-window';
import { meshChannelOptions } from '../../lib/grpc/mesh-credentials';

export interface ZoneReporterOptions {
  // host:port of the zone controller's discovery server.
  address: string;
  // TLS to the zone (edge/config/zone-tls.ts); plaintext without.
  credentials?: grpc.ChannelCredentials;
  proxy: string;
  mode: 'edge' | 'ingress';
  metrics: EdgeMetrics;
  healthy: () => boolean;
  announcing: () => boolean;
  // The mesh listener's advertised addresses; [] without one or while draining.
  meshAddresses?: () => string[];
  logger: Logger;
  intervalMs?: number;
}

export class ZoneReporter implements GatewayObserver {
  private readonly window: TrafficWindow;
  private client: DiscoveryClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private pending = false;
  private failing = false;
  private sent = 0;
  private last: { healthy: boolean; announcing: boolean } | undefined;

  constructor(private readonly o: ZoneReporterOptions) {
    this.window = new TrafficWindow(o.metrics);
  }

  start(): void {
    const Discovery = discoveryProto().meridian.discovery.v1.Discovery;
    this.client = new Discovery(this.o.address, this.o.credentials ?? grpc.credentials.createInsecure(), {
      ...meshChannelOptions(this.o.address),
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs ?? 1000);
    this.timer.unref();
    void this.tick();
  }

  // Health or announcement changed: report now rather than on the next tick.
  nudge(): void {
    void this.send();
  }

  private async tick(): Promise<void> {
    try {
      await this.window.sample();
    } catch (err) {
      this.o.logger.debug({ err: (err as Error).message }, 'zone report: cannot read the counters');
    }
    await this.send();
  }

  private async report(): Promise<ProxyReport> {
    const figures = this.window.figures();
    const inFlight: Record<string, number> = {};
    for (const v of (await this.o.metrics.inFlight.get()).values) {
      const service = v.labels.service;
      if (typeof service === 'string' && v.value > 0) inFlight[service] = v.value;
    }
    return {
      proxy: this.o.proxy,
      mode: this.o.mode,
      healthy: this.o.healthy(),
      announcing: this.o.announcing(),
      requestRate: figures.requestRate,
      errorRate: figures.errorRate,
      p99Ms: figures.p99Ms,
      inFlight,
      meshAddresses: this.o.meshAddresses?.() ?? [],
    };
  }

  private async send(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    if (this.sending) {
      this.pending = true;
      return;
    }
    this.sending = true;
    try {
      const report = await this.report();
      await new Promise<void>((resolve, reject) =>
        client.Report(report, { deadline: Date.now() + 2_000 }, (err) => (err ? reject(err) : resolve())),
      );
      this.last = { healthy: report.healthy!, announcing: report.announcing! };
      this.sent++;
      if (this.failing) this.o.logger.info({ zone: this.o.address }, 'zone report: delivered again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.logger.warn({ zone: this.o.address, err: (err as Error).message }, 'zone report: not delivered; retrying every second');
      this.failing = true;
    } finally {
      this.sending = false;
      if (this.pending) {
        this.pending = false;
        void this.send();
      }
    }
  }

  summary(): Record<string, unknown> {
    return { zoneReport: { zone: this.o.address, sent: this.sent, delivering: !this.failing, last: this.last, traffic: this.window.figures() } };
  }

  close(): void {
    clearInterval(this.timer);
    this.client?.close();
    this.client = undefined;
  }
}
