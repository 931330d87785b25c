// prom-client registry per process. Every metric is named meridian_<part>_...
// or meridian_<thing>_... with the same label names across parts.
import * as client from 'prom-client';

export type Registry = client.Registry;

export function createRegistry(part: string, collectDefaults = true): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ part });
  if (collectDefaults) client.collectDefaultMetrics({ register: registry, prefix: 'meridian_process_' });
  return registry;
}

export { client as prom };
