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
// answered `101 Switching Protocols` once the ingress reached an instance,
// after which the connection carries the TCP bytes both ways. Any other
// answer is a failed try for the edge (502 or 503 when the ingress reached
// no instance).
import { HOP_HEADER, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER } from '../request/request-head';

export const TCP_UPGRADE_PROTOCOL = 'meridian-tcp';
export { HOP_HEADER, PORT_HEADER, SERVICE_HEADER, SOURCE_IDENTITY_HEADER };

// Whether an Upgrade header asks for a TCP connection (one token, any case).
export function isTcpUpgrade(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.trim().toLowerCase() === TCP_UPGRADE_PROTOCOL;
}

// The head of the upgrade request an edge sends.
export function tcpUpgradeHeaders(service: string, portName: string, sourceIdentity: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    host: `${service}.mesh`,
    connection: 'Upgrade',
    upgrade: TCP_UPGRADE_PROTOCOL,
    [SERVICE_HEADER]: service,
    [PORT_HEADER]: portName,
    [HOP_HEADER]: '1',
  };
  if (sourceIdentity !== undefined) headers[SOURCE_IDENTITY_HEADER] = sourceIdentity;
  return headers;
}
