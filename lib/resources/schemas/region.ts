// Region: a place where Meridian runs, its coordinates (the fallback cost
// between regions is their great-circle distance), and optionally its
// WireGuard backhaul address, its anycast BGP setup and the networks its
// instances may be registered in.
import { z } from 'zod/v4';
import { parseIpNetwork } from '../../net/ip-network';
import { integerInRange, ipAddress, lengthMessage, numberInRange, port, resourceSchema } from './common';

// Every bound of a Region, in one place (coordinates, ports and ASNs have
// their natural ranges).
export const REGION_BOUNDS = {
  maxDisplayNameLength: 64,
  maxAnycastAddresses: 16,
  maxBgpNeighbors: 16,
  // The registry checks every registration against them.
  maxInstanceNetworks: 64,
} as const;

const asn = integerInRange(1, 4294967295);

export const locationSchema = z
  .object({
    latitude: numberInRange(-90, 90),
    longitude: numberInRange(-180, 180),
  })
  .strict();

export const tunnelSchema = z
  .object({
    address: ipAddress,
    listenPort: port.default(51820),
  })
  .strict();

export const bgpNeighborSchema = z
  .object({
    address: ipAddress,
    asn,
    bfd: z.boolean().default(false),
  })
  .strict();

export const bgpSchema = z
  .object({
    localAsn: asn,
    anycast: z
      .array(ipAddress)
      .min(1, lengthMessage('needs at least one address to announce'))
      .max(REGION_BOUNDS.maxAnycastAddresses, lengthMessage(`must list at most ${REGION_BOUNDS.maxAnycastAddresses} addresses`)),
    neighbors: z
      .array(bgpNeighborSchema)
      .min(1, lengthMessage('needs at least one neighbor'))
      .max(REGION_BOUNDS.maxBgpNeighbors, lengthMessage(`must list at most ${REGION_BOUNDS.maxBgpNeighbors} neighbors`)),
  })
  .strict();

export const MAX_INSTANCE_NETWORKS = REGION_BOUNDS.maxInstanceNetworks;

// 10.1.0.0/16, fd00:1::/64: IPv4 or IPv6, host bits zero.
export const ipNetwork = z.string().superRefine((s, ctx) => {
  try {
    parseIpNetwork(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const regionSpecSchema = z
  .object({
    location: locationSchema,
    displayName: z
      .string()
      .min(1, lengthMessage('must not be empty'))
      .max(REGION_BOUNDS.maxDisplayNameLength, lengthMessage(`must be at most ${REGION_BOUNDS.maxDisplayNameLength} characters`))
      .optional(),
    tunnel: tunnelSchema.optional(),
    bgp: bgpSchema.optional(),
    // Where the region's instances may be registered; the private ranges
    // when absent. Loopback only when listed here.
    instanceNetworks: z.array(ipNetwork).max(MAX_INSTANCE_NETWORKS, lengthMessage(`must list at most ${MAX_INSTANCE_NETWORKS} networks`)).optional(),
  })
  .strict();

export const regionSchema = resourceSchema('Region', regionSpecSchema);

export type LocationSpec = z.infer<typeof locationSchema>;
export type TunnelSpec = z.infer<typeof tunnelSchema>;
export type BgpNeighborSpec = z.infer<typeof bgpNeighborSchema>;
export type BgpSpec = z.infer<typeof bgpSchema>;
export type RegionSpec = z.infer<typeof regionSpecSchema>;
export type RegionResource = z.infer<typeof regionSchema>;
