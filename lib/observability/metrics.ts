// prom-client registry per process. Every metric is named meridian_<part>_...
// or meridian_<thing>_... with the same label names across parts (see
// docs/observability.md).
import * as client from 'prom-client';

export type Registry = client.Registry;

// The label names a Meridian metric may carry, one meaning each: `part` and
// `zone` say which process wrote a sample (zone: the region it runs in),
// `region` and `service` what the sample is about, `status_class` an answer's
// class (2xx...), `code` an exact HTTP status, `kind` a failure's kind, `role`
// a certificate's holder (edge, ingress), `cap` the limit a request was
// refused by, `reason` why a connection or request was refused, `port` a
// Service port's name, `outcome` how a TCP connection's connect ended,
// `direction` which way bytes went (in, out). Node's runtime metrics add version,
// major, minor, patch, space and type (and kind for GC).
export const SHARED_LABEL_NAMES: ReadonlySet<string> = new Set([
  'part', 'zone', 'region', 'service', 'status_class', 'code', 'kind', 'route', 'method', 'healthy', 'role', 'le',
  'version', 'major', 'minor', 'patch', 'space', 'type', 'cap', 'reason', 'port', 'outcome', 'direction',
]);

// Node's process and runtime metrics come as meridian_process_* and
// meridian_nodejs_*.
export function createRegistry(part: string, collectDefaults = true, labels: Record<string, string> = {}): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ part, ...labels });
  if (collectDefaults) client.collectDefaultMetrics({ register: registry, prefix: 'meridian_' });
  return registry;
}

export { client as prom };
