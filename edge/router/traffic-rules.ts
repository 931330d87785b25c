// TrafficRoute rules of one service, compiled once per view: the first rule
// whose match fits the request picks a backend from its weighted split and
// says whether to strip its path prefix. Several TrafficRoutes for the same
// service are tried in the order of their names.
import type { HeaderMatchSpec, TrafficRouteResource } from '../../lib/resources';
import { matchesPrefix } from './path-prefix';
import { WeightedSplit } from './weighted-split';

export type HeaderValues = Readonly<Record<string, string | string[] | undefined>>;

export interface HeaderSource {
  readonly headers: HeaderValues;
}

class HeaderMatcher {
  private readonly regex: RegExp | undefined;

  constructor(private readonly spec: HeaderMatchSpec) {
    this.regex = spec.regex !== undefined ? new RegExp(spec.regex) : undefined;
  }

  matches(headers: HeaderValues): boolean {
    const raw = headers[this.spec.name];
    if (raw === undefined) return false;
    const value = typeof raw === 'string' ? raw : raw.join(', ');
    if (this.spec.exact !== undefined) return value === this.spec.exact;
    if (this.spec.prefix !== undefined) return value.startsWith(this.spec.prefix);
    return this.regex!.test(value);
  }
}

export class TrafficRule {
  readonly pathPrefix: string | undefined;
  readonly stripPrefix: boolean;
  readonly split: WeightedSplit;
  private readonly methods: readonly string[] | undefined;
  private readonly headers: readonly HeaderMatcher[];

  constructor(
    readonly routeName: string,
    spec: TrafficRouteResource['spec']['rules'][number],
  ) {
    this.pathPrefix = spec.match.pathPrefix;
    this.methods = spec.match.methods;
    this.headers = (spec.match.headers ?? []).map((h) => new HeaderMatcher(h));
    this.stripPrefix = spec.stripPrefix;
    this.split = new WeightedSplit(spec.split);
  }

  // request.headers is read only when the rule has header matches: node
  // builds that object lazily, so requests that never need it never pay.
  matches(method: string, path: string, request: HeaderSource): boolean {
    if (this.pathPrefix !== undefined && !matchesPrefix(path, this.pathPrefix)) return false;
    if (this.methods !== undefined && !this.methods.includes(method)) return false;
    if (this.headers.length > 0) {
      const h = request.headers;
      for (const m of this.headers) if (!m.matches(h)) return false;
    }
    return true;
  }
}

export function compileTrafficRules(routes: Iterable<TrafficRouteResource>): Map<string, TrafficRule[]> {
  const byService = new Map<string, TrafficRule[]>();
  const sorted = [...routes].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const route of sorted) {
    const list = byService.get(route.spec.service) ?? [];
    for (const rule of route.spec.rules) list.push(new TrafficRule(route.metadata.name, rule));
    byService.set(route.spec.service, list);
  }
  return byService;
}
