// The resource kinds and the names they go by: the kind itself (`Service`) in
// documents, the lower-case plural (`services`) in URLs and the CLI, and the
// lower-case singular (`service`) as a convenience.

export const KINDS = [
  'Region',
  'Service',
  'TrafficRoute',
  'ResiliencePolicy',
  'FailoverPolicy',
  'TrafficPermission',
  'Instance',
  'Certificate',
] as const;

export type KindName = (typeof KINDS)[number];

const PLURALS: Record<KindName, string> = {
  Region: 'regions',
  Service: 'services',
  TrafficRoute: 'trafficroutes',
  ResiliencePolicy: 'resiliencepolicies',
  FailoverPolicy: 'failoverpolicies',
  TrafficPermission: 'trafficpermissions',
  Instance: 'instances',
  Certificate: 'certificates',
};

// Every accepted spelling, lower-cased, to its kind.
const KIND_BY_WORD = new Map<string, KindName>();
for (const kind of KINDS) {
  KIND_BY_WORD.set(kind.toLowerCase(), kind);
  KIND_BY_WORD.set(PLURALS[kind], kind);
}

export function isKindName(value: unknown): value is KindName {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

// `Service`, `service` and `services` all resolve to `Service` (case does not
// matter); anything else is undefined.
export function resolveKind(word: string): KindName | undefined {
  if (typeof word !== 'string') return undefined;
  return KIND_BY_WORD.get(word.toLowerCase());
}

// The lower-case plural used in URLs and CLI commands: `resiliencepolicies`.
export function pluralOf(kind: KindName): string {
  return PLURALS[kind];
}

// The lower-case singular: `resiliencepolicy`.
export function singularOf(kind: KindName): string {
  return kind.toLowerCase();
}
