import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTraceparent, isSampled, isValidTraceparent, parentIdOf, traceIdOf } from './traceparent';
import { newSpanId, newTraceId } from './trace-ids';

const EXAMPLE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('traceparent (W3C Trace Context)', () => {
  it('reads the example of the specification', () => {
    assert.equal(isValidTraceparent(EXAMPLE), true);
    assert.equal(traceIdOf(EXAMPLE), '0af7651916cd43dd8448eb211c80319c');
    assert.equal(parentIdOf(EXAMPLE), 'b7ad6b7169203331');
    assert.equal(isSampled(EXAMPLE), true);
    assert.equal(isSampled(EXAMPLE.replace(/-01$/, '-00')), false);
    assert.equal(isSampled(EXAMPLE.replace(/-01$/, '-03')), true, 'other flag bits do not hide the sampled bit');
    assert.equal(isSampled(EXAMPLE.replace(/-01$/, '-0b')), true, 'hex digits past 9');
    assert.equal(isSampled(EXAMPLE.replace(/-01$/, '-fa')), false);
  });

  it('refuses what the specification refuses', () => {
    const bad: Record<string, string> = {
      'version ff': EXAMPLE.replace(/^00/, 'ff'),
      'all-zero trace id': `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
      'all-zero parent id': `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`,
      'upper-case hex': EXAMPLE.toUpperCase(),
      'short trace id': '00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01',
      'version 00 with more fields': `${EXAMPLE}-extra`,
      'a later version with a field not after a dash': `01${EXAMPLE.slice(2)}x`,
      empty: '',
      'not hex': '00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01',
    };
    for (const [why, value] of Object.entries(bad)) assert.equal(isValidTraceparent(value), false, why);
    assert.equal(isValidTraceparent(`01${EXAMPLE.slice(2)}-more`), true, 'a later version may append fields');
  });

  it('writes version 00 with the sampled flag', () => {
    assert.equal(formatTraceparent('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', true), EXAMPLE);
    assert.equal(formatTraceparent('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', false), EXAMPLE.replace(/-01$/, '-00'));
  });

  it('makes random lowercase-hex ids of the right length, valid in a traceparent, never twice', () => {
    const seen = new Set<string>();
    // More than one pool's worth, so the pool is refilled on the way.
    for (let i = 0; i < 1000; i++) {
      const traceId = newTraceId();
      const spanId = newSpanId();
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.match(spanId, /^[0-9a-f]{16}$/);
      assert.equal(isValidTraceparent(formatTraceparent(traceId, spanId, true)), true);
      assert.equal(seen.has(spanId), false, 'a span id repeated');
      seen.add(spanId);
    }
  });
});
