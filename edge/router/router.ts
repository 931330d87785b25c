// The logical route of a request: host and longest path prefix give the
// service; that service's TrafficRoute rules (matched against the path the
// service sees, after the service route's own strip) may send it to another
// backend service and strip the rule's prefix. Compiled once per view; a
// lookup is a map get, a short prefix scan and, with rules, a short rule scan.
import type { ServiceResource, TrafficRouteResource } from '../../lib/resources';
import { buildHostTable, type HostRoutes, type PathRoute } from './host-table';
import { pathOf, stripPrefix } from './path-prefix';
import { compileTrafficRules, type HeaderSource, type TrafficRule } from './traffic-rules';

export class RouteResult {
  constructor(
    // The service the host and path name (its limits apply to the request).
    readonly service: string,
    // The service the request goes to (a TrafficRoute split may change it).
    readonly backend: string,
    // The request target to send upstream, prefixes stripped.
    readonly url: string,
  ) {}
}

export class Router {
  private readonly hosts: Map<string, HostRoutes>;
  private readonly rules: Map<string, TrafficRule[]>;

  constructor(services: Iterable<ServiceResource>, routes: Iterable<TrafficRouteResource>) {
    this.hosts = buildHostTable(services);
    this.rules = compileTrafficRules(routes);
  }

  hasHost(host: string): boolean {
    return this.hosts.has(host);
  }

  // host is normalized (normalizeHost). undefined: no route for host and path.
  route(host: string, url: string, method: string, request: HeaderSource): RouteResult | undefined {
    const routes = this.hosts.get(host);
    if (routes === undefined) return undefined;
    const pathRoute: PathRoute | undefined = routes.match(pathOf(url));
    if (pathRoute === undefined) return undefined;
    const target = pathRoute.stripPrefix ? stripPrefix(url, pathRoute.pathPrefix) : url;
    return this.applyRules(pathRoute.service, target, method, request);
  }

  // A request of the mesh listener, for <service>.mesh: no host or path
  // table, but the service's TrafficRoute rules (splits, by header...).
  mesh(service: string, url: string, method: string, request: HeaderSource): RouteResult {
    return this.applyRules(service, url, method, request);
  }

  // A request that already names its service (x-meridian-service at an
  // ingress): the sending edge applied host, path and rules; nothing more.
  direct(service: string, url: string): RouteResult {
    return new RouteResult(service, service, url);
  }

  private applyRules(service: string, url: string, method: string, request: HeaderSource): RouteResult {
    const rules = this.rules.get(service);
    if (rules !== undefined) {
      const path = pathOf(url);
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        if (!rule.matches(method, path, request)) continue;
        const target = rule.stripPrefix && rule.pathPrefix !== undefined ? stripPrefix(url, rule.pathPrefix) : url;
        return new RouteResult(service, rule.split.pick(), target);
      }
    }
    return new RouteResult(service, service, url);
  }

  // For /v1/view: host -> [prefix -> service].
  summary(): Record<string, { pathPrefix: string; service: string; stripPrefix: boolean }[]> {
    const out: Record<string, { pathPrefix: string; service: string; stripPrefix: boolean }[]> = {};
    for (const [host, routes] of [...this.hosts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[host] = routes.list().map((r) => ({ pathPrefix: r.pathPrefix, service: r.service, stripPrefix: r.stripPrefix }));
    }
    return out;
  }
}
