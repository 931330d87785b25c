// Instance: one running endpoint of a service, registered with a zone
// controller or listed in an edge's static config file.
import { z } from 'zod/v4';
import { dnsLabel, integerInRange, ipAddress, labels, port, resourceSchema } from './common';

// Every bound of an Instance, in one place; its labels take LABEL_BOUNDS.
// Weight is relative among a service's instances of a region: 100 to 1 is
// as lopsided as balancing needs, and a registration cannot claim the lion's
// share of a service's traffic with a huge number.
export const INSTANCE_BOUNDS = {
  maxWeight: 100,
} as const;

export const MAX_INSTANCE_WEIGHT = INSTANCE_BOUNDS.maxWeight;

export const instanceSpecSchema = z
  .object({
    service: dnsLabel,
    // Optional in static mode, where the edge's own region is implied.
    region: dnsLabel.optional(),
    address: ipAddress,
    port,
    weight: integerInRange(1, MAX_INSTANCE_WEIGHT).default(1),
    labels: labels.optional(),
  })
  .strict();

export const instanceSchema = resourceSchema('Instance', instanceSpecSchema);

export type InstanceSpec = z.infer<typeof instanceSpecSchema>;
export type InstanceResource = z.infer<typeof instanceSchema>;
