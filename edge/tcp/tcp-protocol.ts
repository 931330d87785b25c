// The wire contract between an edge and a remote region's ingress for one
// TCP connection: an HTTP/1.1 request over the mesh mTLS connection,
//   GET / HTTP/1.1
//   Host: <service>.mesh
//   Connection: Upgrade
//   Upgrade: meridian-tcp
//   x-meridian-service: <service>
//   x-meridian-port: <port name>
//   x-meridian-hop: 1
//   x-meridian-source-identity: <caller identity>   (when the edge knows one)
//   x-meridian-target-region: <region>              (through a relay only)
// answered `101 Switching Protocols` once the ingress reached an instance,
// after which the connection carries the TCP bytes both ways. Any other
// answer is a failed try for the edge (502 or 503 when the ingress reached
// no instance).
// A region whose direct tunnel is down is reached through a relay region's
// ingress, as requests are: the edge names the target region, the relay
// ingress sends the same upgrade (without the target, hop count + 1) to the
// target's ingress, answers 101 once that one did and pipes the two.
import { HOP_HEADER, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER, TARGET_REGION_HEADER } from '../request/request-head';

export const TCP_UPGRADE_PROTOCOL = 'meridian-tcp';
export { HOP_HEADER, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER, TARGET_REGION_HEADER };

// Whether an Upgrade header asks for a TCP connection (one token, any case).
export function isTcpUpgrade(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.trim().toLowerCase() === TCP_UPGRADE_PROTOCOL;
}

// The head of the upgrade request an edge (hop 1) or a relay ingress (the
// hop count it got + 1) sends; targetRegion only to a relay.
export function tcpUpgradeHeaders(
  service: string,
  portName: string,
  sourceIdentity: string | undefined,
  hop = 1,
  targetRegion: string | undefined = undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    host: `${service}.mesh`,
    connection: 'Upgrade',
    upgrade: TCP_UPGRADE_PROTOCOL,
    [SERVICE_HEADER]: service,
    [PORT_HEADER]: portName,
    [HOP_HEADER]: String(hop),
  };
  if (sourceIdentity !== undefined) headers[SOURCE_IDENTITY_HEADER] = sourceIdentity;
  if (targetRegion !== undefined) headers[TARGET_REGION_HEADER] = targetRegion;
  return headers;
}

// The hop count an upgrade request carries (0 when absent or not a positive integer, as for requests).
export function hopsOf(value: string | string[] | undefined): number {
  const n = typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n > 0 ? n : 0;
}
