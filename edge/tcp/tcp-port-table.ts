// Which TCP listeners a view asks for: every Service port with protocol tcp,
// at its number, unless the number is taken; on the public host only the
// ports marked public. Two tcp Service ports with one
// number: the Service first by name (then the port listed first) keeps it.
// A number this proxy already listens on (its HTTP, HTTPS or mesh listener)
// is never a TCP listener. Every clash is described, naming both sides.
import type { ServiceResource } from '../../lib/resources';
import type { TcpPortBinding } from './tcp-connection';

export interface TcpPortTable {
  ports: Map<number, TcpPortBinding>;
  clashes: string[];
}

// `reserved`: port number -> what this proxy listens on there (e.g. "the edge's --http listener").
export function tcpPortTable(services: Iterable<ServiceResource>, reserved: ReadonlyMap<number, string>, publicOnly = false): TcpPortTable {
  const ports = new Map<number, TcpPortBinding>();
  const clashes: string[] = [];
  const sorted = [...services].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const s of sorted) {
    for (const p of s.spec.ports) {
      if (p.protocol !== 'tcp' || (publicOnly && p.public !== true)) continue;
      const what = `Service ${s.metadata.name} port '${p.name}' (tcp ${p.port})`;
      const own = reserved.get(p.port);
      if (own !== undefined) {
        clashes.push(`${what} clashes with ${own}; no TCP listener for it`);
        continue;
      }
      const first = ports.get(p.port);
      if (first !== undefined) {
        clashes.push(`${what} clashes with Service ${first.service} port '${first.portName}' (tcp ${p.port}); Service ${first.service} keeps the port`);
        continue;
      }
      ports.set(p.port, { service: s.metadata.name, portName: p.name, port: p.port });
    }
  }
  return { ports, clashes };
}
