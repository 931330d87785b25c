// The backends of this proxy: one per service the view names (a Service
// resource, local instances, a TrafficRoute split, or in edge mode a remote
// region). A name from a request header is never enough to create one (an
// ingress must not grow a backend per made-up x-meridian-service).
//
// A backend is built on its service's first request (get()), from the view
// in force, and kept up to date from then on: an edge that knows ten
// thousand services holds the balancer, breakers, budget and metrics only of
// those it serves (the control-plane bench's edge-memory figure). A service
// the view no longer names loses its backend.
//
// A view that says what changed since the one applied before it (EdgeView
// changes, not `all`) updates only the backends of the services named
// there; any other view updates every backend built so far. At ten thousand
// services one instance's health change is one Backend.update at most.
import type { ServiceResource } from '../../lib/resources';
import { emptyView, type EdgeView } from '../config/edge-view';
import { ServiceMetrics, type EdgeMetrics } from '../observability/edge-metrics';
import { Backend, type BackendDeps } from './backend';
import { defaultHttpPort, portNamed } from './service-ports';

export class BackendSet {
  // By service name, or "name:port" for another port of the service.
  private backends = new Map<string, Backend>();
  // Service name -> keys of its other ports' backends.
  private portKeys = new Map<string, Set<string>>();
  private view: EdgeView;
  // Services a TrafficRoute names, from the last full apply (routes change
  // only with `all`).
  private routed = new Set<string>();
  // The id of the last view applied (its changes.id), 0 for one without.
  private appliedId = 0;
  // Backend.update calls made by the last apply(), for tests and the log.
  lastUpdates = 0;

  constructor(
    private readonly deps: BackendDeps,
    private readonly metrics: EdgeMetrics,
  ) {
    this.view = emptyView(deps.localRegion);
  }

  // The service's backend, built on first use when the view names it. `port`
  // names one of the Service's ports (a TCP port, or an HTTP port other than
  // the first); undefined, or the first HTTP port: the service's own backend.
  // A port the Service does not list has no backend.
  get(name: string, port?: string): Backend | undefined {
    if (port !== undefined) {
      const service = this.view.services.get(name);
      if (port === defaultHttpPort(service)?.name) port = undefined;
      else if (portNamed(service, port) === undefined) return undefined;
    }
    const key = port === undefined ? name : `${name}:${port}`;
    let b = this.backends.get(key);
    if (b === undefined && this.named(this.view, name)) {
      b = new Backend(name, this.metrics.forService(name), this.deps, port);
      b.update(this.view);
      this.backends.set(key, b);
      if (port !== undefined) {
        let keys = this.portKeys.get(name);
        if (keys === undefined) this.portKeys.set(name, (keys = new Set()));
        keys.add(key);
      }
    }
    return b;
  }

  // The Service resource of the view in force.
  service(name: string): ServiceResource | undefined {
    return this.view.services.get(name);
  }

  // The backend if it was built (no request: none).
  built(name: string): Backend | undefined {
    return this.backends.get(name);
  }

  apply(view: EdgeView): void {
    const c = view.changes;
    const incremental = c !== undefined && !c.all && c.baseId !== 0 && c.baseId === this.appliedId;
    this.view = view;
    if (incremental) this.update(view, c.services);
    else {
      this.routed = routedServices(view);
      this.update(view, new Set([...this.backends.values()].map((b) => b.name)));
    }
    this.appliedId = c?.id ?? 0;
    // An ingress dials other regions too, for relayed requests.
    this.deps.ingressPools.retain(new Set(view.remoteRegions.keys()));
    const down: string[] = [];
    for (const r of view.remoteRegions.values()) if (!r.reachable || r.relayVia !== undefined) down.push(r.name);
    this.deps.ingressPools.pathsDown(down);
  }

  // Updates the built backends among `names`, closing those the view no
  // longer names.
  private update(view: EdgeView, names: Iterable<string>): void {
    let updates = 0;
    for (const name of [...names]) {
      for (const key of this.keysOf(name)) {
        const b = this.backends.get(key)!;
        if (!this.named(view, name) || (b.port !== undefined && portNamed(view.services.get(name), b.port) === undefined)) {
          b.close();
          this.backends.delete(key);
          continue;
        }
        b.update(view);
        updates++;
      }
    }
    this.lastUpdates = updates;
  }

  // The keys of a service's built backends: its own, and one per other port in use.
  private keysOf(name: string): string[] {
    const keys = this.backends.has(name) ? [name] : [];
    const ports = this.portKeys.get(name);
    if (ports !== undefined) for (const k of ports) if (this.backends.has(k)) keys.push(k);
    return keys;
  }

  // Whether the view names the service.
  private named(view: EdgeView, name: string): boolean {
    if (view.services.has(name) || view.instances.has(name) || this.routed.has(name)) return true;
    if (this.deps.mode !== 'edge') return false;
    for (const r of view.remoteRegions.values()) if (r.services.has(name)) return true;
    return false;
  }

  // Every service the view names, sorted.
  names(): string[] {
    const view = this.view;
    const names = new Set<string>(view.services.keys());
    for (const name of view.instances.keys()) names.add(name);
    for (const name of this.routed) names.add(name);
    if (this.deps.mode === 'edge') for (const r of view.remoteRegions.values()) for (const s of r.services.keys()) names.add(s);
    return [...names].sort();
  }

  // What /v1/view shows of a service: its backend's summary, or for one not
  // built yet, that of a backend built for the occasion and dropped (so
  // reading the view does not build ten thousand backends).
  summary(name: string, now: number): Record<string, unknown> | undefined {
    const built = this.backends.get(name);
    if (built !== undefined) return built.summary(now);
    if (!this.named(this.view, name)) return undefined;
    const b = new Backend(name, new ServiceMetrics(this.metrics, name), this.deps);
    b.update(this.view);
    return b.summary(now);
  }

  // The backends built so far.
  all(): IterableIterator<Backend> {
    return this.backends.values();
  }

  close(): void {
    for (const b of this.backends.values()) b.close();
    this.backends.clear();
  }
}

function routedServices(view: EdgeView): Set<string> {
  const routed = new Set<string>();
  for (const route of view.trafficRoutes.values()) {
    routed.add(route.spec.service);
    for (const rule of route.spec.rules) for (const b of rule.split) routed.add(b.service);
  }
  return routed;
}
