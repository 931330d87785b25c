import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistry, prom } from './metrics';
import { assertValidPrometheusText, parsePrometheusText, parseSampleValue, PrometheusTextError } from './prometheus-text';

const VALID = `# A comment that is neither HELP nor TYPE.
# HELP http_requests_total Requests handled, by code.\\nSecond line with a backslash \\\\.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400",} 3 1395066363000

# TYPE temperature gauge
temperature{path="C:\\\\dir\\\\",quote="say \\"hi\\"",nl="a\\nb"} -3.5e-2
temperature{path="nan"} NaN
temperature{path="inf"} +Inf
temperature{path="ninf"} -Inf
# HELP latency_seconds Request latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{route="a",le="0.05"} 24054
latency_seconds_bucket{route="a",le="0.1"} 33444
latency_seconds_bucket{route="a",le="+Inf"} 144320
latency_seconds_sum{route="a"} 53423
latency_seconds_count{route="a"} 144320
latency_seconds_bucket{route="b",le="1"} 0
latency_seconds_bucket{route="b",le="+Inf"} 0
latency_seconds_sum{route="b"} 0
latency_seconds_count{route="b"} 0
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
metric_without_timestamp_and_labels 12.47
`;

// The problems found in an exposition, as "line N: message".
function problems(text: string): string[] {
  return parsePrometheusText(text).problems.map((p) => `line ${p.line}: ${p.message}`);
}

function assertProblem(text: string, expected: RegExp): void {
  const found = problems(text);
  assert.ok(found.some((p) => expected.test(p)), `expected a problem matching ${expected}, got ${JSON.stringify(found)}`);
}

describe('Prometheus text format reader', () => {
  it('reads a valid exposition: types, help, labels with escapes, NaN and infinities, timestamps', () => {
    const families = assertValidPrometheusText(VALID);
    assert.deepEqual([...families.keys()], [
      'http_requests_total', 'temperature', 'latency_seconds', 'rpc_duration_seconds', 'metric_without_timestamp_and_labels',
    ]);
    const requests = families.get('http_requests_total')!;
    assert.equal(requests.type, 'counter');
    assert.equal(requests.help, 'Requests handled, by code.\nSecond line with a backslash \\.');
    assert.deepEqual(requests.samples[0], { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestamp: 1395066363000, line: 4 });
    const temperature = families.get('temperature')!.samples;
    assert.deepEqual(temperature[0]!.labels, { path: 'C:\\dir\\', quote: 'say "hi"', nl: 'a\nb' });
    assert.equal(temperature[0]!.value, -0.035);
    assert.ok(Number.isNaN(temperature[1]!.value));
    assert.equal(temperature[2]!.value, Infinity);
    assert.equal(temperature[3]!.value, -Infinity);
    assert.equal(families.get('latency_seconds')!.samples.length, 9);
    assert.equal(families.get('metric_without_timestamp_and_labels')!.type, 'untyped');
  });

  it("accepts prom-client's output, default metrics and histograms included", async () => {
    const registry = createRegistry('test');
    const h = new prom.Histogram({ name: 'meridian_test_seconds', help: 'x', labelNames: ['route'], buckets: [0.1, 1], registers: [registry] });
    h.observe({ route: 'a"b\\c' }, 0.5);
    h.observe({ route: 'other' }, 3);
    new prom.Counter({ name: 'meridian_test_total', help: 'with "quotes" and \\ and\nnewline', registers: [registry] }).inc(2);
    assertValidPrometheusText(await registry.metrics());
  });

  it('takes the value spellings Prometheus takes', () => {
    assert.ok(Number.isNaN(parseSampleValue('Nan')));
    assert.equal(parseSampleValue('inf'), Infinity);
    assert.equal(parseSampleValue('-Infinity'), -Infinity);
    assert.equal(parseSampleValue('1e3'), 1000);
    assert.equal(parseSampleValue('.5'), 0.5);
    assert.equal(parseSampleValue('0x10'), undefined);
  });

  it('accepts an empty exposition', () => {
    assert.deepEqual(problems(''), []);
  });

  describe('refuses bad syntax', () => {
    const cases: [string, string, RegExp][] = [
      ['a sample line not starting with a name', '0abc 1\n', /line 1: a sample must start with a metric name/],
      ['a bad label name', 'm{0a="x"} 1\n', /invalid label name/],
      ['a reserved label name', 'm{__name__="x"} 1\n', /reserved/],
      ['an unquoted label value', 'm{a=x} 1\n', /must be in double quotes/],
      ['an invalid escape in a label value', 'm{a="x\\ty"} 1\n', /invalid escape \\t/],
      ['an unterminated label value', 'm{a="x} 1\n', /unterminated value/],
      ['a label repeated', 'm{a="1",a="2"} 1\n', /label a repeated/],
      ['a missing comma between labels', 'm{a="1" b="2"} 1\n', /expected , or \}/],
      ['a missing value', 'm{a="1"}\n', /expected a space and a value/],
      ['a value that is not a float', 'm 1,5\n', /invalid value "1,5"/],
      ['a word for a value', 'm one\n', /invalid value "one"/],
      ['a signed NaN', 'm -NaN\n', /invalid value "-NaN"/],
      ['a fractional timestamp', 'm 1 1.5\n', /invalid timestamp "1.5"/],
      ['text after the timestamp', 'm 1 2 3\n', /unexpected text after the value/],
      ['no newline at the end', 'm 1', /line 1: the last line does not end with a newline/],
      ['an unknown type', '# TYPE m countr\nm 1\n', /unknown type "countr"/],
      ['an invalid metric name in TYPE', '# TYPE m-x counter\n', /invalid metric name "m-x"/],
      ['a bad escape in HELP', '# HELP m a \\t b\n', /invalid escape in the HELP of m/],
    ];
    for (const [what, text, expected] of cases) it(what, () => assertProblem(text, expected));
  });

  describe('refuses an inconsistent exposition', () => {
    const cases: [string, string, RegExp][] = [
      ['a second HELP', '# HELP m one\n# HELP m two\nm 1\n', /line 2: second HELP for m/],
      ['a second TYPE', '# TYPE m gauge\n# TYPE m gauge\nm 1\n', /line 2: second TYPE for m/],
      ['a TYPE after the samples', 'm 1\n# TYPE m gauge\n', /line 2: TYPE of m after its samples/],
      ['a family split in two groups', 'a 1\nb 1\na{x="1"} 2\n', /line 3: samples of a are not in one group/],
      ['a repeated series, labels in any order', 'm{a="1",b="2"} 1\nm{b="2",a="1"} 2\n', /line 2: duplicate series m\{a="1",b="2"\}/],
      ['a negative counter', '# TYPE c counter\nc -1\n', /counter c is negative/],
      ['a plain sample in a histogram', '# TYPE h histogram\nh 1\n', /sample h does not belong to histogram h/],
    ];
    for (const [what, text, expected] of cases) it(what, () => assertProblem(text, expected));
  });

  describe('refuses broken histograms and summaries', () => {
    const histogram = (lines: string[]) => `# TYPE h histogram\n${lines.join('\n')}\n`;
    const cases: [string, string, RegExp][] = [
      ['no +Inf bucket', histogram(['h_bucket{le="1"} 1', 'h_sum 1', 'h_count 1']), /has no le="\+Inf" bucket/],
      ['buckets that are not cumulative', histogram(['h_bucket{le="1"} 5', 'h_bucket{le="2"} 3', 'h_bucket{le="+Inf"} 5', 'h_sum 1', 'h_count 5']), /bucket le="2" of h counts less/],
      ['buckets out of order', histogram(['h_bucket{le="2"} 1', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 1', 'h_sum 1', 'h_count 1']), /not in increasing le order/],
      ['a bucket without le', histogram(['h_bucket 1', 'h_bucket{le="+Inf"} 1', 'h_sum 1', 'h_count 1']), /without a valid le label/],
      ['_count not equal to the +Inf bucket', histogram(['h_bucket{le="+Inf"} 4', 'h_sum 1', 'h_count 5']), /_count of h \(5\) differs from its \+Inf bucket \(4\)/],
      ['no _sum', histogram(['h_bucket{le="+Inf"} 1', 'h_count 1']), /histogram h has no _sum/],
      ['no _count, for one series of two', histogram(['h_bucket{a="1",le="+Inf"} 1', 'h_sum{a="1"} 1', 'h_count{a="1"} 1', 'h_bucket{a="2",le="+Inf"} 1', 'h_sum{a="2"} 1']), /histogram h\{a="2"\} has no _count/],
      ['_sum and _count without buckets', histogram(['h_sum{a="1"} 1', 'h_count{a="1"} 1']), /has _sum or _count but no buckets/],
      ['a summary quantile over 1', '# TYPE s summary\ns{quantile="1.5"} 1\ns_sum 1\ns_count 1\n', /quantile of s must be from 0 to 1/],
      ['a summary without _count', '# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 1\n', /summary s has no _count/],
    ];
    for (const [what, text, expected] of cases) it(what, () => assertProblem(text, expected));
  });

  it('assertValidPrometheusText lists every problem with its line', () => {
    assert.throws(() => assertValidPrometheusText('m{a=x} 1\nn abc\n'), (err: unknown) => {
      assert.ok(err instanceof PrometheusTextError);
      assert.deepEqual(err.problems.map((p) => p.line), [1, 2]);
      return true;
    });
  });
});
