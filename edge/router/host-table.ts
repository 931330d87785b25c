// Host -> path routes -> service. Every service answers on <name>.mesh and on
// its spec.hosts; a host that several services list is shared, and the
// longest matching path prefix across them wins (ties: the service whose name
// sorts first). Built once per view.
import type { ServiceResource } from '../../lib/resources';
import { matchesPrefix } from './path-prefix';

export class PathRoute {
  constructor(
    readonly service: string,
    readonly pathPrefix: string,
    readonly stripPrefix: boolean,
  ) {}
}

export class HostRoutes {
  // Longest prefix first.
  private readonly routes: PathRoute[] = [];

  add(route: PathRoute): void {
    this.routes.push(route);
  }

  seal(): void {
    this.routes.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  }

  match(path: string): PathRoute | undefined {
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) if (matchesPrefix(path, routes[i].pathPrefix)) return routes[i];
    return undefined;
  }

  list(): readonly PathRoute[] {
    return this.routes;
  }
}

export const MESH_DOMAIN = 'mesh';

export function buildHostTable(services: Iterable<ServiceResource>): Map<string, HostRoutes> {
  const table = new Map<string, HostRoutes>();
  const add = (host: string, route: PathRoute) => {
    let routes = table.get(host);
    if (routes === undefined) table.set(host, (routes = new HostRoutes()));
    routes.add(route);
  };
  for (const service of services) {
    const name = service.metadata.name;
    const hosts = new Set([`${name}.${MESH_DOMAIN}`, ...service.spec.hosts]);
    for (const r of service.spec.routes) {
      const route = new PathRoute(name, r.pathPrefix, r.stripPrefix);
      for (const host of hosts) add(host, route);
    }
  }
  for (const routes of table.values()) routes.seal();
  return table;
}
