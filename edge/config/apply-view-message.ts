// Applies one meridian.discovery.v1.View message to the view state:
// `full` replaces everything; otherwise resources are upserts, removed
// resources are "Kind/name" removals, the instances of each service named in
// instance_services replace that service's list, regions replace those remote
// regions whole (or, with services_partial, merge the services named) and
// removed_regions drop them. A full view's kept_resources are resources the
// zone holds but cannot send yet (a Certificate whose key it has not had back
// since it restarted): the copies held here stay. Resource documents are
// validated with lib/resources; an invalid one is skipped (and reported), the
// rest of the message still applies.
import { formatValidationError, validateDocument } from '../../lib/resources';
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import type { LocalInstance, RemoteRegion, RemoteServiceState } from './edge-view';
import type { ViewState } from './view-state';

export interface ApplyResult {
  // One line per resource that was refused.
  rejected: string[];
}

export function applyViewMessage(state: ViewState, msg: View__Output): ApplyResult {
  const rejected: string[] = [];
  if (msg.full) {
    const kept = (msg.keptResources ?? []).flatMap((key) => {
      const doc = key.startsWith('Certificate/') ? state.certificate(key.slice('Certificate/'.length)) : undefined;
      return doc ? [doc] : [];
    });
    state.clear();
    for (const doc of kept) state.upsert(doc);
  }
  state.setVersion(Number(msg.version));

  for (const resource of msg.resources ?? []) {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(resource.document).toString('utf8'));
    } catch (err) {
      rejected.push(`${resource.kind}/${resource.name}: document is not JSON: ${(err as Error).message}`);
      continue;
    }
    const result = validateDocument(doc);
    if (!result.ok) {
      rejected.push(...result.errors.map((e) => `${resource.kind}/${resource.name}: ${formatValidationError(e)}`));
      continue;
    }
    state.upsert(result.document);
  }
  for (const key of msg.removedResources ?? []) state.remove(key);

  if ((msg.instanceServices ?? []).length > 0) {
    const byService = new Map<string, LocalInstance[]>();
    for (const service of msg.instanceServices) byService.set(service, []);
    for (const i of msg.instances ?? []) {
      const list = byService.get(i.service);
      if (list === undefined) continue; // not announced in instance_services: ignored
      list.push({
        id: i.id,
        service: i.service,
        address: i.address,
        port: i.port,
        weight: i.weight > 0 ? i.weight : 1,
        labels: i.labels ?? {},
        ...portsField(i.ports),
        healthy: i.healthy,
      });
    }
    for (const [service, list] of byService) state.setInstances(service, list);
  }

  for (const r of msg.regions ?? []) {
    const services = new Map<string, RemoteServiceState>();
    for (const s of r.services ?? []) services.set(s.service, { healthy: s.healthy, total: s.total, load: s.load });
    const region: RemoteRegion = {
      name: r.name,
      latitude: Number(r.latitude),
      longitude: Number(r.longitude),
      ingressAddress: r.ingressAddress,
      reachable: r.reachable,
      rttMs: r.rttMs,
      services,
      ...(r.relayVia && r.relayIngressAddress ? { relayVia: r.relayVia, relayIngressAddress: r.relayIngressAddress } : {}),
    };
    // services_partial (asked for with partial_regions): only the services
    // that changed, and removed_services those gone.
    if (r.servicesPartial) state.mergeRemoteRegion(region, r.removedServices ?? []);
    else state.setRemoteRegion(region);
  }
  for (const name of msg.removedRegions ?? []) state.removeRemoteRegion(name);

  return { rejected };
}

// The other ports of an instance, when it names any: a port the zone sends as
// 0 or above 65535 (a zone does not send one) is left out, so the Service's
// own number serves it.
function portsField(ports: Record<string, number> | undefined): { ports?: Readonly<Record<string, number>> } {
  if (ports === undefined) return {};
  let out: Record<string, number> | undefined;
  for (const [name, port] of Object.entries(ports)) {
    if (port < 1 || port > 65535) continue;
    (out ??= {})[name] = port;
  }
  return out === undefined ? {} : { ports: out };
}
