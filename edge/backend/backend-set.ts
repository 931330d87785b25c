// Every backend this proxy knows, reconciled from each view: one per service
// named by a Service resource, by local instances, by a TrafficRoute split or
// by a remote region. A name from a request header is never enough to create
// one (an ingress must not grow a backend per made-up x-meridian-service).
import type { EdgeView } from '../config/edge-view';
import type { EdgeMetrics } from '../observability/edge-metrics';
import { Backend, type BackendDeps } from './backend';

export class BackendSet {
  private backends = new Map<string, Backend>();

  constructor(
    private readonly deps: BackendDeps,
    private readonly metrics: EdgeMetrics,
  ) {}

  get(name: string): Backend | undefined {
    return this.backends.get(name);
  }

  apply(view: EdgeView): void {
    const names = new Set<string>(view.services.keys());
    for (const name of view.instances.keys()) names.add(name);
    for (const route of view.trafficRoutes.values()) {
      names.add(route.spec.service);
      for (const rule of route.spec.rules) for (const b of rule.split) names.add(b.service);
    }
    if (this.deps.mode === 'edge') for (const r of view.remoteRegions.values()) for (const s of r.services.keys()) names.add(s);

    const next = new Map<string, Backend>();
    for (const name of names) {
      let b = this.backends.get(name);
      if (b === undefined) b = new Backend(name, this.metrics.forService(name), this.deps);
      b.update(view);
      next.set(name, b);
    }
    for (const [name, b] of this.backends) if (!next.has(name)) b.close();
    this.backends = next;
    // An ingress dials other regions too, for relayed requests.
    this.deps.ingressPools.retain(new Set(view.remoteRegions.keys()));
    const down: string[] = [];
    for (const r of view.remoteRegions.values()) if (!r.reachable || r.relayVia !== undefined) down.push(r.name);
    this.deps.ingressPools.pathsDown(down);
  }

  all(): IterableIterator<Backend> {
    return this.backends.values();
  }

  close(): void {
    for (const b of this.backends.values()) b.close();
    this.backends.clear();
  }
}
