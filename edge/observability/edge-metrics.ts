// The edge's Prometheus metrics. What every request touches (answers by
// status class, duration, in flight) is kept in plain numbers on objects
// looked up once per service and region, and handed to prom-client when the
// metrics are read (a collect() hook, FastHistogram): a request costs a few
// additions, not prom-client's label hashing, which shows on a profile of
// the edge at its peak.
import { createRegistry, prom, type Registry } from '../../lib/observability/metrics';
import { FastHistogram, type HistogramChild } from './fast-histogram';

const CODE_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function codeClassIndex(status: number): number {
  const c = (status / 100) | 0;
  return c >= 1 && c <= 5 ? c : 0;
}

export class RegionMetrics {
  // Answers by status class not yet added to the counter.
  private readonly pending = [0, 0, 0, 0, 0, 0];
  private readonly children: (prom.Counter.Internal | undefined)[] = [];

  constructor(
    private readonly metrics: EdgeMetrics,
    private readonly service: string,
    private readonly region: string,
    readonly duration: HistogramChild,
  ) {}

  countRequest(status: number): void {
    this.pending[codeClassIndex(status)]++;
  }

  // When the counter is read.
  flush(): void {
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) {
      if (pending[i] === 0) continue;
      let child = this.children[i];
      if (child === undefined) child = this.children[i] = this.metrics.requests.labels(this.service, this.region, CODE_CLASSES[i]);
      child.inc(pending[i]);
      pending[i] = 0;
    }
  }
}

// Requests in progress for one service; the gauge reads it when collected.
export class InFlightCount {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }

  dec(n = 1): void {
    this.value -= n;
  }
}

export class ServiceMetrics {
  readonly inFlight = new InFlightCount();
  readonly retries: prom.Counter.Internal;
  readonly ejections: prom.Counter.Internal;
  private readonly regions = new Map<string, RegionMetrics>();

  constructor(
    private readonly metrics: EdgeMetrics,
    readonly service: string,
  ) {
    this.retries = metrics.retries.labels(service);
    this.ejections = metrics.ejections.labels(service);
  }

  regionList(): IterableIterator<RegionMetrics> {
    return this.regions.values();
  }

  region(name: string): RegionMetrics {
    let r = this.regions.get(name);
    if (r === undefined) {
      r = new RegionMetrics(this.metrics, this.service, name, this.metrics.duration.labels(this.service, name));
      this.regions.set(name, r);
    }
    return r;
  }

  upstreamError(region: string, kind: string): void {
    this.metrics.upstreamErrors.labels(this.service, region, kind).inc();
  }
}

export class EdgeMetrics {
  readonly registry: Registry;
  readonly requests: prom.Counter<'service' | 'region' | 'status_class'>;
  readonly duration: FastHistogram;
  readonly upstreamErrors: prom.Counter<'service' | 'region' | 'kind'>;
  readonly retries: prom.Counter<'service'>;
  readonly ejections: prom.Counter<'service'>;
  readonly inFlight: prom.Gauge<'service'>;
  readonly clientErrors: prom.Counter<'kind'>;
  readonly http2ConnectionsClosed: prom.Counter<'reason'>;
  readonly viewVersion: prom.Gauge;
  private readonly services = new Map<string, ServiceMetrics>();

  constructor(registry: Registry = createRegistry('edge')) {
    this.registry = registry;
    const registers = [registry];
    const services = this.services;
    this.requests = new prom.Counter({
      name: 'meridian_edge_requests_total',
      help: 'Requests answered, by service, serving region and status class',
      labelNames: ['service', 'region', 'status_class'],
      registers,
      collect() {
        for (const m of services.values()) for (const r of m.regionList()) r.flush();
      },
    });
    this.duration = new FastHistogram(
      'meridian_edge_request_duration_seconds',
      'Time from request to the end of the response, by service and serving region',
      ['service', 'region'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    );
    this.upstreamErrors = new prom.Counter({
      name: 'meridian_edge_upstream_errors_total',
      help: 'Failed tries, by service, region and kind (connect-failure, reset, timeout, 502, 503, 504)',
      labelNames: ['service', 'region', 'kind'],
      registers,
    });
    this.retries = new prom.Counter({
      name: 'meridian_edge_retries_total',
      help: 'Tries after the first, by service',
      labelNames: ['service'],
      registers,
    });
    this.ejections = new prom.Counter({
      name: 'meridian_edge_ejections_total',
      help: 'Instances ejected by outlier detection, by service',
      labelNames: ['service'],
      registers,
    });
    this.inFlight = new prom.Gauge({
      name: 'meridian_edge_in_flight',
      help: 'Requests in progress, by service',
      labelNames: ['service'],
      registers,
      collect() {
        for (const m of services.values()) this.labels(m.service).set(m.inFlight.value);
      },
    });
    this.clientErrors = new prom.Counter({
      name: 'meridian_edge_client_errors_total',
      help: 'Connections refused by the listener before a request was routed (bad-request, header-overflow, timeout, tls)',
      labelNames: ['kind'],
      registers,
    });
    this.http2ConnectionsClosed = new prom.Counter({
      name: 'meridian_edge_http2_connections_closed_total',
      help: 'HTTP/2 client connections the listener closed with a GOAWAY, by reason (rapid-reset: too many streams reset by the client)',
      labelNames: ['reason'],
      registers,
    });
    this.viewVersion = new prom.Gauge({
      name: 'meridian_edge_view_version',
      help: 'Version of the view in force',
      registers,
    });
  }

  forService(name: string): ServiceMetrics {
    let m = this.services.get(name);
    if (m === undefined) {
      m = new ServiceMetrics(this, name);
      this.services.set(name, m);
    }
    return m;
  }
}
