// Which instance gets which check: the Service's healthCheck, in milliseconds.
import { parseDuration, type ServiceResource } from '../lib/resources';
import type { HealthTarget } from './health/health-checker';
import type { Instance } from './registry/instance-registry';

export function healthTargets(instances: Instance[], serviceOf: (name: string) => ServiceResource | undefined): HealthTarget[] {
  const targets: HealthTarget[] = [];
  for (const inst of instances) {
    const hc = serviceOf(inst.service)?.spec.healthCheck;
    if (!hc) continue;
    targets.push({
      id: inst.id,
      address: inst.address,
      port: inst.port,
      check: {
        type: hc.type,
        path: hc.type === 'http' ? hc.path : '',
        expectedStatus: hc.type === 'http' ? hc.expectedStatus : 0,
        intervalMs: parseDuration(hc.interval),
        timeoutMs: parseDuration(hc.timeout),
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
      },
    });
  }
  return targets;
}
