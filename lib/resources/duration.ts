// Durations in resources are strings such as "250ms", "5s", "1m" or "2h": a
// non-negative integer or decimal number followed by a unit. Nothing else is
// accepted (no spaces, no compound forms like "1m30s", no bare numbers), so a
// value means the same thing to every reader.

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const MS_PER_UNIT: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

export function isDuration(s: unknown): s is string {
  return typeof s === 'string' && DURATION_PATTERN.test(s);
}

// Returns the duration in milliseconds; throws on anything that is not a duration.
export function parseDuration(s: string): number {
  const match = typeof s === 'string' ? DURATION_PATTERN.exec(s) : null;
  if (!match) {
    throw new Error(`invalid duration ${JSON.stringify(s)}: expected a number followed by ms, s, m or h (e.g. 250ms, 5s, 1m, 2h)`);
  }
  return Number(match[1]) * MS_PER_UNIT[match[2]];
}
