// A strict reader of the Prometheus text exposition format 0.0.4, for tests:
// every part's /metrics must be something Prometheus scrapes without a
// complaint. It checks the line syntax (HELP, TYPE, samples, label escapes,
// float values incl. NaN and +Inf, timestamps), that each family is one group
// with its TYPE first, that no series repeats, and that histograms and
// summaries are whole (buckets ordered and cumulative up to +Inf, _count equal
// to the +Inf bucket, _sum and _count present).
// https://github.com/prometheus/docs/blob/main/content/docs/instrumenting/exposition_formats.md

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
  line: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export interface TextProblem {
  line: number;
  message: string;
}

export interface ParsedExposition {
  families: Map<string, MetricFamily>;
  problems: TextProblem[];
}

const TYPES: MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_NAME_AT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME_AT = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

export class PrometheusTextError extends Error {
  constructor(readonly problems: TextProblem[]) {
    super(problems.map((p) => `line ${p.line}: ${p.message}`).join('\n'));
    this.name = 'PrometheusTextError';
  }
}

// Parses and returns what it found; problems is empty for a valid exposition.
export function parsePrometheusText(text: string): ParsedExposition {
  return new Reader().read(text);
}

// For tests: the families, or a PrometheusTextError listing every problem.
export function assertValidPrometheusText(text: string): Map<string, MetricFamily> {
  const { families, problems } = parsePrometheusText(text);
  if (problems.length > 0) throw new PrometheusTextError(problems);
  return families;
}

// Decimal floats, and NaN, Inf and Infinity in any case as Prometheus's Go
// parser takes them (prom-client writes NaN as "Nan"). Hexadecimal floats,
// which Go would also take, are refused: no Meridian part writes them.
export function parseSampleValue(raw: string): number | undefined {
  if (/^nan$/i.test(raw)) return NaN;
  const inf = /^([+-]?)inf(?:inity)?$/i.exec(raw);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return FLOAT.test(raw) ? Number(raw) : undefined;
}

class Reader {
  private readonly families = new Map<string, MetricFamily>();
  private readonly problems: TextProblem[] = [];
  private readonly seriesSeen = new Set<string>();
  private readonly typed = new Set<string>();
  // Families whose samples have started; then the one being read.
  private readonly started = new Set<string>();
  private current: string | undefined;
  private lineNo = 0;

  read(text: string): ParsedExposition {
    const lines = text.split('\n');
    if (text !== '' && lines[lines.length - 1] !== '') this.problem(lines.length, 'the last line does not end with a newline');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const [i, line] of lines.entries()) {
      this.lineNo = i + 1;
      if (line.trim() === '') continue;
      if (line.startsWith('#')) this.comment(line);
      else this.sample(line);
    }
    for (const family of this.families.values()) this.checkFamily(family);
    return { families: this.families, problems: this.problems };
  }

  private problem(line: number, message: string): void {
    this.problems.push({ line, message });
  }

  private family(name: string): MetricFamily {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { name, type: 'untyped', samples: [] }));
    return f;
  }

  // `# HELP name text`, `# TYPE name type`; any other `#` line is a comment.
  private comment(line: string): void {
    const m = /^#[ \t]+(HELP|TYPE)(?:[ \t]+(.*))?$/.exec(line);
    if (!m) return;
    const [, keyword, rest = ''] = m;
    const sp = /^(\S+)(?:[ \t]+(.*))?$/.exec(rest);
    if (!sp) return this.problem(this.lineNo, `${keyword} without a metric name`);
    const [, name, arg = ''] = sp as unknown as [string, string, string | undefined];
    if (!METRIC_NAME.test(name)) return this.problem(this.lineNo, `invalid metric name "${name}"`);
    const f = this.family(name);
    if (keyword === 'HELP') {
      if (f.help !== undefined) return this.problem(this.lineNo, `second HELP for ${name}`);
      const help = unescapeHelp(arg);
      if (help === undefined) return this.problem(this.lineNo, `invalid escape in the HELP of ${name} (only \\\\ and \\n)`);
      f.help = help;
      return;
    }
    const type = arg.trim() as MetricType;
    if (!TYPES.includes(type)) return this.problem(this.lineNo, `unknown type "${arg.trim()}" for ${name}`);
    if (this.started.has(name)) return this.problem(this.lineNo, `TYPE of ${name} after its samples`);
    if (this.typed.has(name)) return this.problem(this.lineNo, `second TYPE for ${name}`);
    this.typed.add(name);
    f.type = type;
  }

  private sample(line: string): void {
    const parsed = parseSampleLine(line);
    if (typeof parsed === 'string') return this.problem(this.lineNo, parsed);
    const familyName = this.familyOf(parsed.name);
    const f = this.family(familyName);
    if (this.current !== familyName) {
      if (this.started.has(familyName)) this.problem(this.lineNo, `samples of ${familyName} are not in one group`);
      this.started.add(familyName);
      this.current = familyName;
    }
    const key = seriesKey(parsed.name, parsed.labels);
    if (this.seriesSeen.has(key)) this.problem(this.lineNo, `duplicate series ${key}`);
    this.seriesSeen.add(key);
    f.samples.push({ ...parsed, line: this.lineNo });
  }

  // x_bucket, x_sum and x_count belong to histogram x; x, x_sum, x_count to summary x.
  private familyOf(sampleName: string): string {
    const m = /^(.*)_(bucket|sum|count)$/.exec(sampleName);
    if (m) {
      const base = this.families.get(m[1]!);
      if (base?.type === 'histogram' || (base?.type === 'summary' && m[2] !== 'bucket')) return m[1]!;
    }
    return sampleName;
  }

  private checkFamily(f: MetricFamily): void {
    const allowed =
      f.type === 'histogram' ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`]
      : f.type === 'summary' ? [f.name, `${f.name}_sum`, `${f.name}_count`]
      : [f.name];
    for (const s of f.samples) {
      if (!allowed.includes(s.name)) this.problem(s.line, `sample ${s.name} does not belong to ${f.type} ${f.name}`);
      if (f.type === 'counter' && s.value < 0) this.problem(s.line, `counter ${f.name} is negative`);
    }
    if (f.type === 'histogram') this.checkHistogram(f);
    if (f.type === 'summary') this.checkSummary(f);
  }

  private checkHistogram(f: MetricFamily): void {
    const series = groupSeries(f, 'le');
    for (const [key, s] of series) {
      const buckets = s.main.filter((x) => x.name === `${f.name}_bucket`);
      if (buckets.length === 0) {
        this.problem(s.firstLine, `histogram ${f.name}${key} has _sum or _count but no buckets`);
        continue;
      }
      let prevLe = -Infinity;
      let prevCount = -Infinity;
      for (const b of buckets) {
        const raw = b.labels.le;
        const le = raw === undefined ? undefined : parseSampleValue(raw);
        if (le === undefined || Number.isNaN(le)) {
          this.problem(b.line, `bucket of ${f.name} without a valid le label`);
          continue;
        }
        if (le <= prevLe) this.problem(b.line, `buckets of ${f.name}${key} are not in increasing le order`);
        if (b.value < prevCount) this.problem(b.line, `bucket le="${raw}" of ${f.name}${key} counts less than the bucket before it`);
        prevLe = le;
        prevCount = b.value;
      }
      const last = buckets[buckets.length - 1]!;
      if (parseSampleValue(last.labels.le ?? '') !== Infinity) this.problem(last.line, `histogram ${f.name}${key} has no le="+Inf" bucket`);
      if (!s.sum) this.problem(s.firstLine, `histogram ${f.name}${key} has no _sum`);
      if (!s.count) this.problem(s.firstLine, `histogram ${f.name}${key} has no _count`);
      else if (parseSampleValue(last.labels.le ?? '') === Infinity && s.count.value !== last.value) {
        this.problem(s.count.line, `_count of ${f.name}${key} (${s.count.value}) differs from its +Inf bucket (${last.value})`);
      }
    }
  }

  private checkSummary(f: MetricFamily): void {
    for (const [key, s] of groupSeries(f, 'quantile')) {
      for (const q of s.main) {
        const quantile = parseSampleValue(q.labels.quantile ?? '');
        if (quantile === undefined || !(quantile >= 0 && quantile <= 1)) this.problem(q.line, `quantile of ${f.name} must be from 0 to 1`);
      }
      if (!s.sum) this.problem(s.firstLine, `summary ${f.name}${key} has no _sum`);
      if (!s.count) this.problem(s.firstLine, `summary ${f.name}${key} has no _count`);
    }
  }
}

interface SeriesParts {
  main: Sample[];
  sum?: Sample;
  count?: Sample;
  firstLine: number;
}

// A histogram's or summary's samples per series: its labels without `le` or `quantile`.
function groupSeries(f: MetricFamily, special: string): Map<string, SeriesParts> {
  const out = new Map<string, SeriesParts>();
  for (const s of f.samples) {
    const labels = { ...s.labels };
    delete labels[special];
    const key = labelText(labels);
    let parts = out.get(key);
    if (!parts) out.set(key, (parts = { main: [], firstLine: s.line }));
    if (s.name === `${f.name}_sum`) parts.sum = s;
    else if (s.name === `${f.name}_count`) parts.count = s;
    else parts.main.push(s);
  }
  return out;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return name + labelText(labels);
}

function labelText(labels: Record<string, string>): string {
  const names = Object.keys(labels).sort();
  return names.length === 0 ? '' : `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

function unescapeHelp(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = s[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else return undefined;
  }
  return out;
}

// `name{label="value",...} value [timestamp]`; a string is the problem found.
export function parseSampleLine(line: string): Omit<Sample, 'line'> | string {
  METRIC_NAME_AT.lastIndex = 0;
  const nameMatch = METRIC_NAME_AT.exec(line);
  if (!nameMatch) return `a sample must start with a metric name: "${line.slice(0, 40)}"`;
  const name = nameMatch[0];
  let pos = nameMatch[0].length;
  const labels: Record<string, string> = {};
  const skipSpace = () => {
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
  };
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      skipSpace();
      if (line[pos] === '}') break;
      LABEL_NAME_AT.lastIndex = pos;
      const ln = LABEL_NAME_AT.exec(line);
      if (!ln) return `invalid label name at column ${pos + 1} of ${name}`;
      const labelName = ln[0];
      if (labelName.startsWith('__')) return `label name ${labelName} of ${name} is reserved (starts with __)`;
      if (Object.hasOwn(labels, labelName)) return `label ${labelName} repeated in ${name}`;
      pos += labelName.length;
      skipSpace();
      if (line[pos] !== '=') return `expected = after label ${labelName} of ${name}`;
      pos++;
      skipSpace();
      if (line[pos] !== '"') return `the value of label ${labelName} of ${name} must be in double quotes`;
      pos++;
      let value = '';
      for (;;) {
        const ch = line[pos];
        if (ch === undefined) return `unterminated value of label ${labelName} of ${name}`;
        pos++;
        if (ch === '"') break;
        if (ch !== '\\') {
          value += ch;
          continue;
        }
        const esc = line[pos++];
        if (esc === '\\') value += '\\';
        else if (esc === '"') value += '"';
        else if (esc === 'n') value += '\n';
        else return `invalid escape \\${esc ?? ''} in label ${labelName} of ${name} (only \\\\, \\" and \\n)`;
      }
      labels[labelName] = value;
      skipSpace();
      if (line[pos] === ',') {
        pos++;
        continue;
      }
      if (line[pos] === '}') break;
      return `expected , or } after label ${labelName} of ${name}`;
    }
    pos++;
  }
  const rest = line.slice(pos);
  if (!/^[ \t]/.test(rest)) return `expected a space and a value after ${name}`;
  const tokens = rest.trim().split(/[ \t]+/);
  if (tokens.length > 2) return `unexpected text after the value of ${name}: "${tokens.slice(2).join(' ')}"`;
  const value = parseSampleValue(tokens[0]!);
  if (value === undefined) return `invalid value "${tokens[0]}" for ${name}`;
  if (tokens.length === 2) {
    if (!TIMESTAMP.test(tokens[1]!)) return `invalid timestamp "${tokens[1]}" for ${name} (integer milliseconds)`;
    return { name, labels, value, timestamp: Number(tokens[1]) };
  }
  return { name, labels, value };
}
