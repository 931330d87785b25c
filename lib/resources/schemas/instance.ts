// Instance: one running endpoint of a service, registered with a zone
// controller or listed in an edge's static config file.
import { z } from 'zod/v4';
import { dnsLabel, integerInRange, ipAddress, labels, port, resourceSchema } from './common';

export const instanceSpecSchema = z
  .object({
    service: dnsLabel,
    // Optional in static mode, where the edge's own region is implied.
    region: dnsLabel.optional(),
    address: ipAddress,
    port,
    weight: integerInRange(1, 1000).default(1),
    labels: labels.optional(),
  })
  .strict();

export const instanceSchema = resourceSchema('Instance', instanceSpecSchema);

export type InstanceSpec = z.infer<typeof instanceSpecSchema>;
export type InstanceResource = z.infer<typeof instanceSchema>;
