// Every backend this proxy knows, reconciled from each view: one per service
// named by a Service resource, by local instances, by a TrafficRoute split or
// by a remote region. A name from a request header is never enough to create
// one (an ingress must not grow a backend per made-up x-meridian-service).
//
// A view that says what changed since the one applied before it (EdgeView
// changes, not `all`) updates only the backends of the services named there,
// creating or closing them as the view now names them or not; any other view
// rebuilds every backend. At ten thousand services one instance's health
// change is one Backend.update, not ten thousand.
import type { EdgeView } from '../config/edge-view';
import type { EdgeMetrics } from '../observability/edge-metrics';
import { Backend, type BackendDeps } from './backend';

export class BackendSet {
  private backends = new Map<string, Backend>();
  // Services a TrafficRoute names, from the last full rebuild (routes change
  // only with `all`).
  private routed = new Set<string>();
  // The id of the last view applied (its changes.id), 0 for one without.
  private appliedId = 0;
  // Backend.update calls made by the last apply(), for tests and the log.
  lastUpdates = 0;

  constructor(
    private readonly deps: BackendDeps,
    private readonly metrics: EdgeMetrics,
  ) {}

  get(name: string): Backend | undefined {
    return this.backends.get(name);
  }

  apply(view: EdgeView): void {
    const c = view.changes;
    if (c !== undefined && !c.all && c.baseId !== 0 && c.baseId === this.appliedId) this.applyChanges(view, c.services);
    else this.applyAll(view);
    this.appliedId = c?.id ?? 0;
    // An ingress dials other regions too, for relayed requests.
    this.deps.ingressPools.retain(new Set(view.remoteRegions.keys()));
    const down: string[] = [];
    for (const r of view.remoteRegions.values()) if (!r.reachable || r.relayVia !== undefined) down.push(r.name);
    this.deps.ingressPools.pathsDown(down);
  }

  private applyAll(view: EdgeView): void {
    const names = new Set<string>(view.services.keys());
    for (const name of view.instances.keys()) names.add(name);
    const routed = new Set<string>();
    for (const route of view.trafficRoutes.values()) {
      routed.add(route.spec.service);
      for (const rule of route.spec.rules) for (const b of rule.split) routed.add(b.service);
    }
    for (const name of routed) names.add(name);
    this.routed = routed;
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
    this.lastUpdates = names.size;
  }

  // Only the services named changed (local instances or remote state):
  // resources, and so policies, routes and region order inputs, did not.
  private applyChanges(view: EdgeView, services: ReadonlySet<string>): void {
    let updates = 0;
    for (const name of services) {
      if (!this.named(view, name)) {
        const b = this.backends.get(name);
        if (b !== undefined) {
          b.close();
          this.backends.delete(name);
        }
        continue;
      }
      let b = this.backends.get(name);
      if (b === undefined) this.backends.set(name, (b = new Backend(name, this.metrics.forService(name), this.deps)));
      b.update(view);
      updates++;
    }
    this.lastUpdates = updates;
  }

  // Whether the view names the service (applyAll's rule for one name).
  private named(view: EdgeView, name: string): boolean {
    if (view.services.has(name) || view.instances.has(name) || this.routed.has(name)) return true;
    if (this.deps.mode !== 'edge') return false;
    for (const r of view.remoteRegions.values()) if (r.services.has(name)) return true;
    return false;
  }

  all(): IterableIterator<Backend> {
    return this.backends.values();
  }

  close(): void {
    for (const b of this.backends.values()) b.close();
    this.backends.clear();
  }
}
