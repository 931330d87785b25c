// At a zone ingress: the regions it may forward a relayed request to, for one
// service. Only regions this ingress reaches directly and that report healthy
// instances of the service; never one that is itself relayed, so a request
// makes one relay hop at most. Targets are kept from view to view, like a
// plan's, so their circuits and in-flight counts survive updates.
import type { EdgeView } from '../config/edge-view';
import { RegionTarget } from '../region-picker/region-target';
import type { BreakerConfig } from '../resilience/circuit-breaker';
import type { RemoteIngressPools } from '../upstream/remote-ingress-pool';

export class RelayTargets {
  private targets = new Map<string, RegionTarget>();

  // http2: the service needs HTTP/2 end to end (gRPC).
  update(view: EdgeView, service: string, breaker: BreakerConfig, pools: RemoteIngressPools, http2 = false): void {
    const next = new Map<string, RegionTarget>();
    for (const r of view.remoteRegions.values()) {
      const s = r.services.get(service);
      if (!r.reachable || r.relayVia !== undefined || r.ingressAddress === '' || s === undefined || s.healthy <= 0) continue;
      let t = this.targets.get(r.name);
      if (t === undefined) t = new RegionTarget(r.name, false, breaker);
      t.breaker.config = breaker;
      t.healthy = s.healthy;
      t.reportedLoad = s.load;
      t.ingress = pools.get(r.name, r.ingressAddress, http2);
      t.ingressAddress = r.ingressAddress;
      next.set(r.name, t);
    }
    this.targets = next;
  }

  get(region: string): RegionTarget | undefined {
    return this.targets.get(region);
  }

  names(): string[] {
    return [...this.targets.keys()].sort();
  }
}
