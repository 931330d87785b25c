// What a request to the mesh listener names: `<service>.mesh`, and which of
// the service's ports: the port of the Host header, else the port the request
// came in on. The mesh listener's own ports (80, 443) stand for the service's
// first HTTP port; another number names a Service port (an HTTP one: TCP
// ports have listeners of their own).
import type { ServiceResource } from '../../lib/resources';
import { defaultHttpPort, portNumbered } from '../backend/service-ports';

export interface MeshTarget {
  service: string;
  // undefined: the service's first HTTP port.
  port: string | undefined;
}

const MESH_SUFFIX = '.mesh';
const SERVICE_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

// The target, or the message of the 404 to answer.
export function meshTarget(
  hostKey: string,
  rawHost: string,
  localPort: number | undefined,
  listenerPorts: ReadonlySet<number>,
  serviceOf: (name: string) => ServiceResource | undefined,
): MeshTarget | string {
  const service = hostKey.endsWith(MESH_SUFFIX) ? hostKey.slice(0, -MESH_SUFFIX.length) : '';
  if (!SERVICE_LABEL.test(service)) {
    return `the mesh listener serves <service>.mesh names only; '${hostKey}' is not one`;
  }
  const colon = rawHost.lastIndexOf(':');
  const hostPort = colon >= 0 ? Number(rawHost.slice(colon + 1)) : localPort;
  const resource = serviceOf(service);
  if (resource !== undefined && defaultHttpPort(resource) === undefined) {
    return `service '${service}' has only TCP ports: connect to ${service}.mesh on ${resource.spec.ports.map((p) => p.port).join(', ')}`;
  }
  if (hostPort === undefined || listenerPorts.has(hostPort) || !Number.isInteger(hostPort)) return { service, port: undefined };
  const named = portNumbered(resource, hostPort);
  if (named === undefined || named.protocol === 'tcp') return `service '${service}' has no HTTP port ${hostPort}`;
  return { service, port: named.name === defaultHttpPort(resource)?.name ? undefined : named.name };
}
