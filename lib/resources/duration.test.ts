import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it('reads every unit into milliseconds', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5s'), 5_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('2h'), 7_200_000);
  });

  it('accepts decimal numbers and zero', () => {
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('0.5m'), 30_000);
    assert.equal(parseDuration('0s'), 0);
  });

  for (const bad of ['', '5', 's', '5 s', ' 5s', '5S', '-1s', '1m30s', '.5s', '5.s', '1d', '5sec', '1e3ms']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseDuration(bad), /invalid duration .*number followed by ms, s, m or h/);
      assert.equal(isDuration(bad), false);
    });
  }

  it('isDuration is false for non-strings', () => {
    assert.equal(isDuration(5), false);
    assert.equal(isDuration(undefined), false);
    assert.equal(isDuration('5s'), true);
  });
});
