// The HTTP/2 listener flags: defaults, the values given, and the bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionsError, parseEdgeOptions } from './options';

describe('edge options: HTTP/2 limits', () => {
  it('defaults to 128 streams and 200 resets a second', () => {
    const o = parseEdgeOptions(['--config', 'x.yaml']);
    assert.equal(o.limits.http2MaxConcurrentStreams, 128);
    assert.equal(o.limits.http2MaxResetsPerSecond, 200);
  });

  it('an ingress allows 10000 resets a second by default: its shared connections carry many clients\' cancellations', () => {
    const o = parseEdgeOptions(['--config', 'x.yaml', '--mode', 'ingress']);
    assert.equal(o.limits.http2MaxResetsPerSecond, 10_000);
    assert.equal(parseEdgeOptions(['--config', 'x.yaml', '--mode', 'ingress', '--http2-max-resets-per-second', '300']).limits.http2MaxResetsPerSecond, 300);
  });

  it('takes the values given', () => {
    const o = parseEdgeOptions(['--config', 'x.yaml', '--http2-max-concurrent-streams', '250', '--http2-max-resets-per-second', '50']);
    assert.equal(o.limits.http2MaxConcurrentStreams, 250);
    assert.equal(o.limits.http2MaxResetsPerSecond, 50);
  });

  it('refuses values out of bounds, naming the flag and the range', () => {
    const cases: [string, string, RegExp][] = [
      ['--http2-max-concurrent-streams', '0', /--http2-max-concurrent-streams: expected an integer from 1 to 1000, got '0'/],
      ['--http2-max-concurrent-streams', '4294967295', /from 1 to 1000/],
      ['--http2-max-resets-per-second', '5', /--http2-max-resets-per-second: expected an integer from 10 to 10000, got '5'/],
      ['--http2-max-resets-per-second', '1.5', /from 10 to 10000/],
    ];
    for (const [flag, value, message] of cases) {
      assert.throws(() => parseEdgeOptions(['--config', 'x.yaml', flag, value]), (err: Error) => err instanceof OptionsError && message.test(err.message));
    }
  });
});

describe('edge options: the HTTP/1.1 engine', () => {
  it('is the fast path unless node is asked for, and refuses anything else by name', () => {
    assert.equal(parseEdgeOptions(['--config', 'x.yaml']).http1Engine, 'fast');
    assert.equal(parseEdgeOptions(['--config', 'x.yaml', '--http1-engine', 'node']).http1Engine, 'node');
    assert.throws(() => parseEdgeOptions(['--config', 'x.yaml', '--http1-engine', 'nginx']), (err: Error) => err instanceof OptionsError && /--http1-engine: expected fast or node, got 'nginx'/.test(err.message));
  });
});
