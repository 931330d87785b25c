// Which instance gets which check: the Service's healthCheck, in milliseconds.
import { parseDuration, type ServiceResource } from '../lib/resources';
import type { HealthTarget } from './health/health-checker';
import type { Instance } from './registry/instance-registry';

export function healthTargets(instances: Instance[], serviceOf: (name: string) => ServiceResource | undefined): HealthTarget[] {
  const targets: HealthTarget[] = [];
  // One parse per service, not per instance.
  const checks = new Map<string, HealthTarget['check'] | undefined>();
  for (const inst of instances) {
    let check = checks.get(inst.service);
    if (!checks.has(inst.service)) checks.set(inst.service, (check = checkOf(serviceOf(inst.service))));
    if (check) targets.push({ id: inst.id, address: inst.address, port: inst.port, check });
  }
  return targets;
}

function checkOf(service: ServiceResource | undefined): HealthTarget['check'] | undefined {
  const hc = service?.spec.healthCheck;
  if (!hc) return undefined;
  return {
    type: hc.type,
    path: hc.type === 'http' ? hc.path : '',
    expectedStatus: hc.type === 'http' ? hc.expectedStatus : 0,
    intervalMs: parseDuration(hc.interval),
    timeoutMs: parseDuration(hc.timeout),
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
  };
}
