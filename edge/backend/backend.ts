// A concrete backend: one service as this proxy reaches it. It owns the
// service's local endpoints and their balancer, its regions in the order
// they are tried (the plan), its retry budget and its metrics, and is
// updated in place when the view changes so that what was learned (latency,
// ejections, circuits, in-flight counts) carries over.
import type { Logger } from '../../lib/observability/logger';
import type { ServiceResource } from '../../lib/resources';
import { Endpoint } from '../balancer/endpoint';
import { OutlierDetector } from '../balancer/outlier-detector';
import { P2CBalancer } from '../balancer/p2c-balancer';
import type { EdgeView, LocalInstance } from '../config/edge-view';
import type { ServiceMetrics } from '../observability/edge-metrics';
import { findFailoverOrder, orderRegions, type CandidateRegion } from '../region-picker/region-order';
import { RegionTarget } from '../region-picker/region-target';
import { RelayTargets } from '../relay/relay-targets';
import { remotePath } from '../relay/remote-path';
import { RetryBudget } from '../resilience/retry-budget';
import type { RemoteIngressPools } from '../upstream/remote-ingress-pool';
import type { UpstreamDispatcher } from '../upstream/upstream-dispatcher';
import { resolvePolicy, type EffectivePolicy } from './effective-policy';
import { defaultHttpPort, instancePort, portNamed, speaksHttp2 } from './service-ports';

export interface BackendDeps {
  mode: 'edge' | 'ingress';
  localRegion: string;
  // http2: the service's instances speak HTTP/2 (h2c), not HTTP/1.1.
  createInstancePool(address: string, port: number, connectTimeoutMs: number, http2: boolean): UpstreamDispatcher;
  ingressPools: RemoteIngressPools;
  logger: Logger;
}

export class Backend {
  policy!: EffectivePolicy;
  readonly balancer: P2CBalancer;
  readonly local: RegionTarget;
  plan: RegionTarget[] = [];
  // How the plan was ordered: a FailoverPolicy name, or "cost".
  orderedBy = 'cost';
  readonly budget = new RetryBudget();
  // Ingress mode: regions a relayed request for this service may go on to.
  readonly relays = new RelayTargets();
  private readonly remotes = new Map<string, RegionTarget>();
  private endpoints = new Map<string, Endpoint>();
  private instances: readonly LocalInstance[] | undefined;
  private connectTimeoutMs = -1;
  private http2 = false;
  // The Service resource the endpoints' ports were taken from.
  private service: ServiceResource | undefined;

  constructor(
    readonly name: string,
    readonly metrics: ServiceMetrics,
    private readonly deps: BackendDeps,
    // The Service port this backend serves; undefined: the first HTTP port.
    readonly port?: string,
  ) {
    this.balancer = new P2CBalancer(new OutlierDetector());
    this.local = new RegionTarget(deps.localRegion, true, { maxRequests: 1024, consecutiveFailures: 20, openForMs: 10_000 });
  }

  update(view: EdgeView): void {
    const service = view.services.get(this.name);
    this.policy = resolvePolicy(view.resiliencePolicies.values(), service, this.name);
    if (this.port !== undefined) this.policy = { ...this.policy, http2: speaksHttp2(portNamed(service, this.port)?.protocol) };
    const p = this.policy;
    this.balancer.outlier.config = p.outlier;
    this.budget.percent = p.budgetPercent;
    this.local.breaker.config = p.breaker;
    this.updateEndpoints(view.instances.get(this.name), this.port ?? defaultHttpPort(service)?.name, service);
    this.updatePlan(view);
  }

  // Healthy instances become endpoints; an endpoint is kept while its
  // address, port and connect timeout stay.
  private updateEndpoints(instances: readonly LocalInstance[] | undefined, portName: string | undefined, service: ServiceResource | undefined): void {
    const p = this.policy;
    if (instances === this.instances && service === this.service && p.connectTimeoutMs === this.connectTimeoutMs && p.http2 === this.http2) return;
    this.instances = instances;
    this.service = service;
    this.connectTimeoutMs = p.connectTimeoutMs;
    const protocolChanged = p.http2 !== this.http2;
    this.http2 = p.http2;
    const next = new Map<string, Endpoint>();
    for (const i of instances ?? []) {
      if (!i.healthy) continue;
      const port = portName === undefined ? i.port : instancePort(service, portName, i);
      const key = i.address.includes(':') ? `[${i.address}]:${port}` : `${i.address}:${port}`;
      if (next.has(key)) continue;
      let e = this.endpoints.get(key);
      if (e === undefined || e.id !== i.id || protocolChanged) {
        const { connectTimeoutMs, http2 } = this;
        e = new Endpoint(key, i.id, i.address, port, i.weight, () => this.deps.createInstancePool(i.address, port, connectTimeoutMs, http2));
      }
      e.weight = i.weight;
      next.set(key, e);
    }
    for (const [key, e] of this.endpoints) {
      if (next.get(key) !== e) void e.close().catch(() => undefined);
    }
    this.endpoints = next;
    this.balancer.setEndpoints([...next.values()]);
  }

  private updatePlan(view: EdgeView): void {
    const candidates: CandidateRegion[] = [];
    if (this.balancer.size() > 0) candidates.push({ name: view.region, local: true, rttMs: 0, location: undefined });
    const seen = new Set<string>();
    if (this.deps.mode === 'edge') {
      for (const r of view.remoteRegions.values()) {
        const s = r.services.get(this.name);
        const path = remotePath(r);
        if (!r.reachable || s === undefined || s.healthy <= 0 || path === undefined) continue;
        const regionDoc = view.regions.get(r.name);
        const location = regionDoc?.spec.location ?? (r.latitude !== 0 || r.longitude !== 0 ? { latitude: r.latitude, longitude: r.longitude } : undefined);
        candidates.push({ name: r.name, local: false, rttMs: r.rttMs, location });
        seen.add(r.name);
        let t = this.remotes.get(r.name);
        if (t === undefined) this.remotes.set(r.name, (t = new RegionTarget(r.name, false, this.policy.breaker)));
        t.breaker.config = this.policy.breaker;
        t.reportedLoad = s.load;
        t.healthy = s.healthy;
        t.ingress = this.deps.ingressPools.get(path.dialRegion, path.address, this.policy.http2);
        t.ingressAddress = path.address;
        t.relayVia = path.relayVia;
      }
    } else {
      this.relays.update(view, this.name, this.policy.breaker, this.deps.ingressPools, this.policy.http2);
    }
    for (const name of [...this.remotes.keys()]) if (!seen.has(name)) this.remotes.delete(name);

    const localLocation = view.regions.get(view.region)?.spec.location;
    const failover = findFailoverOrder(view.failoverPolicies.values(), this.name, view.region);
    this.orderedBy = failover?.policy ?? 'cost';
    const ordered = orderRegions(candidates, localLocation, failover?.regions);
    this.plan = ordered.map((o, index) => {
      const t = o.name === view.region ? this.local : this.remotes.get(o.name)!;
      t.index = index;
      t.cost = o.cost;
      return t;
    });
  }

  close(): void {
    for (const e of this.endpoints.values()) void e.close().catch(() => undefined);
    this.endpoints.clear();
    this.balancer.setEndpoints([]);
  }

  summary(now: number): Record<string, unknown> {
    return {
      policy: this.policy.policyName ?? '(defaults)',
      orderedBy: this.orderedBy,
      regions: this.plan.map((t) => ({
        name: t.name,
        local: t.local,
        cost: Number.isFinite(t.cost) ? Math.round(t.cost * 10) / 10 : null,
        inFlight: t.inFlight,
        load: t.load(),
        circuit: t.breaker.describe(now),
        ...(t.local ? {} : { healthy: t.healthy }),
        ...(t.relayVia !== undefined ? { relayVia: t.relayVia } : {}),
      })),
      ...(this.deps.mode === 'ingress' ? { relaysTo: this.relays.names() } : {}),
      instances: this.balancer.list().map((e) => ({
        id: e.id,
        address: e.key,
        weight: e.weight,
        outstanding: e.outstanding,
        ewmaMs: Math.round(e.ewma.get(now) * 100) / 100,
        ejected: e.isEjected(now),
        consecutiveFailures: e.consecutiveFailures,
      })),
    };
  }
}

