// Instance: one running endpoint of a service, registered with a zone
// controller or listed in an edge's static config file.
import { z } from 'zod/v4';
import { dnsLabel, integerInRange, ipAddress, labels, port, refinement, resourceSchema } from './common';
import { SERVICE_BOUNDS } from './service';

// Every bound of an Instance, in one place; its labels take LABEL_BOUNDS.
// Weight is relative among a service's instances of a region: 100 to 1 is
// as lopsided as balancing needs, and a registration cannot claim the lion's
// share of a service's traffic with a huge number.
export const INSTANCE_BOUNDS = {
  maxWeight: 100,
  // An instance names at most as many ports as a Service has.
  maxPorts: SERVICE_BOUNDS.maxPorts,
} as const;

export const MAX_INSTANCE_WEIGHT = INSTANCE_BOUNDS.maxWeight;

// The instance's port for each named port of its Service other than the
// first (which is `port`): { "<port name>": <port> }. The registry's input
// (zone-controller/registry/instance-input.ts) takes the same rule.
export const instancePortsSchema = z.record(z.string(), port).check(
  refinement((record, ctx) => {
    const names = Object.keys(record);
    if (names.length > INSTANCE_BOUNDS.maxPorts) {
      ctx.addIssue({ code: 'custom', message: `must name at most ${INSTANCE_BOUNDS.maxPorts} ports, got ${names.length}` });
      return;
    }
    for (const name of names) {
      const label = dnsLabel.safeParse(name);
      if (!label.success) ctx.addIssue({ code: 'custom', path: [name.slice(0, 64)], message: `a port name ${label.error.issues[0]!.message}` });
    }
  }),
);

export const instanceSpecSchema = z
  .object({
    service: dnsLabel,
    // Optional in static mode, where the edge's own region is implied.
    region: dnsLabel.optional(),
    address: ipAddress,
    port,
    weight: integerInRange(1, MAX_INSTANCE_WEIGHT).default(1),
    labels: labels.optional(),
    ports: instancePortsSchema.optional(),
  })
  .strict();

export const instanceSchema = resourceSchema('Instance', instanceSpecSchema);

export type InstanceSpec = z.infer<typeof instanceSpecSchema>;
export type InstanceResource = z.infer<typeof instanceSchema>;
