import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { assertPkiError, HOUR_MS, makeLeaf, makeRoot, makeZone, type Leaf } from '../../test-support/pki-fixtures';
import { lifetime, msUntilRotation, rotationDueAt } from './rotation';
import { CLOCK_SKEW_MS } from './sign-certificate';

describe('rotation', () => {
  let leaf: Leaf;
  before(() => {
    leaf = makeLeaf(makeZone(makeRoot(), 'fra'), { lifetimeMs: 3 * HOUR_MS });
  });

  it('the lifetime spans notBefore to notAfter', () => {
    const life = lifetime(leaf.certPem);
    assert.deepEqual(life, { notBefore: leaf.notBefore, notAfter: leaf.notAfter, ms: leaf.notAfter.getTime() - leaf.notBefore.getTime() });
    // three hours plus the minute notBefore is backdated (to the second)
    assert.ok(Math.abs(life.ms - (3 * HOUR_MS + 60_000)) <= 1000);
  });

  it('is due at two thirds of the life since issuance (notBefore is backdated a minute)', () => {
    const { notBefore, ms } = lifetime(leaf.certPem);
    const issued = notBefore.getTime() + CLOCK_SKEW_MS;
    const life = ms - CLOCK_SKEW_MS;
    assert.equal(rotationDueAt(leaf.certPem).getTime(), issued + Math.round((life * 2) / 3));
    assert.equal(rotationDueAt(leaf.certPem, 0.5).getTime(), issued + Math.round(life / 2));
    assert.equal(rotationDueAt(leaf.certPem, 1).getTime(), leaf.notAfter.getTime());
  });

  it('a leaf of a few seconds is due seconds after it was issued, not at once', () => {
    const now = new Date();
    const short = makeLeaf(makeZone(makeRoot(), 'fra'), { lifetimeMs: 6_000, now });
    const dueInMs = msUntilRotation(short.certPem, now);
    // 2/3 of 6 s, give or take the rounding of X.509 times to the second
    assert.ok(dueInMs >= 3_000 && dueInMs <= 5_000, `due in ${dueInMs} ms`);
  });

  it('tells a timer how long to wait', () => {
    const due = rotationDueAt(leaf.certPem);
    assert.equal(msUntilRotation(leaf.certPem, new Date(due.getTime() - 5000)), 5000);
    assert.equal(msUntilRotation(leaf.certPem, new Date(due.getTime() + 5000)), 0);
  });

  it('refuses a fraction outside (0, 1]', () => {
    assertPkiError(() => rotationDueAt(leaf.certPem, 0), 'invalid-argument', /\(0, 1\], got 0/);
    assertPkiError(() => rotationDueAt(leaf.certPem, 1.5), 'invalid-argument', /got 1.5/);
  });
});
