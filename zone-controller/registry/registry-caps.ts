// Bounds on what callers of the registry API may make the zone hold and send
// to every proxy: each instance's labels (413 when over), the instances of a
// zone and of one service (429: too many), so the registry, its journal and
// the discovery view stay a size the zone and its proxies were provisioned
// for. Instances already held (loaded from the instance file) are kept even
// when over a cap; only registrations are refused.
export interface RegistryCaps {
  maxInstances: number;
  maxInstancesPerService: number;
  maxLabels: number;
  // UTF-8 bytes of every key and value of one instance's labels, together.
  maxLabelBytes: number;
  // UTF-8 bytes of one key, of one value.
  maxLabelKeyBytes: number;
  maxLabelValueBytes: number;
  // Requests per second per credential (token bucket: this rate, this burst).
  ratePerSecond: number;
  rateBurst: number;
}

export const DEFAULT_REGISTRY_CAPS: Readonly<RegistryCaps> = Object.freeze({
  maxInstances: 10_000,
  maxInstancesPerService: 1_000,
  maxLabels: 32,
  maxLabelBytes: 4096,
  maxLabelKeyBytes: 63,
  maxLabelValueBytes: 256,
  ratePerSecond: 50,
  rateBurst: 100,
});

// The name a refusal and the refusals metric give each cap, with its flag.
export const CAP_FLAGS = {
  'instances-per-zone': '--registry-max-instances',
  'instances-per-service': '--registry-max-instances-per-service',
  'labels-per-instance': '--registry-max-labels',
  'label-bytes-per-instance': '--registry-max-label-bytes',
  'label-key-bytes': '--registry-max-label-key-bytes',
  'label-value-bytes': '--registry-max-label-value-bytes',
  'requests-per-second': '--registry-rate',
} as const;

export type CapName = keyof typeof CAP_FLAGS;

export interface CapRefusal {
  cap: CapName;
  limit: number;
  status: 413 | 429;
  message: string;
  // Labels: the field concerned.
  field?: string;
  // Rate: seconds until a request would be taken.
  retryAfterSeconds?: number;
}

// The first label cap the labels break, or undefined.
export function labelRefusal(labels: Readonly<Record<string, string>>, caps: RegistryCaps): CapRefusal | undefined {
  const entries = Object.entries(labels);
  if (entries.length > caps.maxLabels) {
    return tooLarge('labels-per-instance', caps.maxLabels, 'labels', `${entries.length} labels; at most ${caps.maxLabels} per instance (labels-per-instance)`);
  }
  let total = 0;
  for (const [key, value] of entries) {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    if (keyBytes > caps.maxLabelKeyBytes) {
      return tooLarge('label-key-bytes', caps.maxLabelKeyBytes, `labels.${key.slice(0, 64)}`, `key is ${keyBytes} bytes; at most ${caps.maxLabelKeyBytes} (label-key-bytes)`);
    }
    if (valueBytes > caps.maxLabelValueBytes) {
      return tooLarge('label-value-bytes', caps.maxLabelValueBytes, `labels.${key}`, `value is ${valueBytes} bytes; at most ${caps.maxLabelValueBytes} (label-value-bytes)`);
    }
    total += keyBytes + valueBytes;
  }
  if (total > caps.maxLabelBytes) {
    return tooLarge('label-bytes-per-instance', caps.maxLabelBytes, 'labels', `keys and values are ${total} bytes together; at most ${caps.maxLabelBytes} per instance (label-bytes-per-instance)`);
  }
  return undefined;
}

// Whether one more instance of `service` would break a count cap, given how
// many the zone and the service hold.
export function countRefusal(zoneCount: number, serviceCount: number, service: string, caps: RegistryCaps): CapRefusal | undefined {
  if (serviceCount >= caps.maxInstancesPerService) {
    return tooMany('instances-per-service', caps.maxInstancesPerService, `service '${service}' has ${serviceCount} instances in this zone; at most ${caps.maxInstancesPerService} (instances-per-service)`);
  }
  if (zoneCount >= caps.maxInstances) {
    return tooMany('instances-per-zone', caps.maxInstances, `this zone holds ${zoneCount} instances; at most ${caps.maxInstances} (instances-per-zone)`);
  }
  return undefined;
}

function tooLarge(cap: CapName, limit: number, field: string, message: string): CapRefusal {
  return { cap, limit, status: 413, field, message: `${field}: ${message}` };
}

function tooMany(cap: CapName, limit: number, message: string): CapRefusal {
  return { cap, limit, status: 429, message };
}
