// The named ports of a Service as the data plane sees them. An instance
// serves the Service's first port at its registered port, and any other port
// at the port it registered under that name, else at the Service's own
// number for it (as a Kubernetes targetPort defaults to the port).
import type { ServiceResource } from '../../lib/resources';
import type { LocalInstance } from '../config/edge-view';

export interface ServicePortSpec {
  name: string;
  port: number;
  protocol: 'http' | 'http2' | 'grpc' | 'tcp';
}

// A Service the view does not have is one HTTP port, as the schema's default.
const DEFAULT_PORTS: readonly ServicePortSpec[] = [{ name: 'http', port: 80, protocol: 'http' }];

export function portsOf(service: ServiceResource | undefined): readonly ServicePortSpec[] {
  return service?.spec.ports ?? DEFAULT_PORTS;
}

// The port an HTTP request goes to when it names none: the first that is not tcp.
export function defaultHttpPort(service: ServiceResource | undefined): ServicePortSpec | undefined {
  return portsOf(service).find((p) => p.protocol !== 'tcp');
}

export function portNamed(service: ServiceResource | undefined, name: string): ServicePortSpec | undefined {
  return portsOf(service).find((p) => p.name === name);
}

export function portNumbered(service: ServiceResource | undefined, port: number): ServicePortSpec | undefined {
  return portsOf(service).find((p) => p.port === port);
}

export function isFirstPort(service: ServiceResource | undefined, name: string): boolean {
  return portsOf(service)[0]?.name === name;
}

// Where the instance serves the named port of its Service.
export function instancePort(service: ServiceResource | undefined, portName: string, instance: LocalInstance): number {
  if (isFirstPort(service, portName)) return instance.port;
  return instance.ports?.[portName] ?? portNamed(service, portName)?.port ?? instance.port;
}

export function speaksHttp2(protocol: string | undefined): boolean {
  return protocol === 'grpc' || protocol === 'http2';
}
