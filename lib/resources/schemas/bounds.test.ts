import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseDuration } from '../duration';
import { BOUNDS_BY_KIND } from './bounds';
import { durationInRange, MAX_TIMER_MS } from './common';
import { repoRoot } from '../../../test-support/repo-root';

// Every { min, max } duration bound of every kind, as "Kind.field".
function durationBounds(): Array<[string, { min: string; max: string }]> {
  const out: Array<[string, { min: string; max: string }]> = [];
  for (const [kind, bounds] of Object.entries(BOUNDS_BY_KIND)) {
    for (const [field, bound] of Object.entries(bounds)) {
      if (typeof bound === 'object' && bound !== null && 'max' in bound && typeof bound.max === 'string') {
        out.push([`${kind}.${field}`, bound as { min: string; max: string }]);
      }
    }
  }
  return out;
}

describe('bounds', () => {
  it('no duration a resource carries can reach past a Node timer (2^31-1 ms)', () => {
    const found = durationBounds();
    assert.ok(found.length >= 9, `expected every duration field, found ${found.map(([name]) => name).join(', ')}`);
    for (const [name, { min, max }] of found) {
      assert.ok(parseDuration(min) >= 1, `${name}: min ${min} is under 1ms`);
      assert.ok(parseDuration(max) <= MAX_TIMER_MS, `${name}: max ${max} is over ${MAX_TIMER_MS} ms`);
    }
  });

  it('docs/resources.md lists every duration bound under its kind', () => {
    const docs = fs.readFileSync(path.join(repoRoot(), 'docs', 'resources.md'), 'utf8');
    const rows = docs.slice(docs.indexOf('## Bounds')).split('\n').filter((line) => line.startsWith('| '));
    for (const [name, { min, max }] of durationBounds()) {
      const kind = name.split('.')[0]!;
      assert.ok(
        rows.some((row) => row.startsWith(`| ${kind} |`) && row.includes(`${min}..${max}`)),
        `no row of the Bounds table says ${kind} takes ${min}..${max} (${name})`,
      );
    }
  });

  it('a duration bound past 2^31-1 ms cannot be declared', () => {
    assert.throws(() => durationInRange({ min: '1ms', max: '597h' }), /is not within 0\.\.2147483647 ms/);
    durationInRange({ min: '1ms', max: '596h' });
  });
});
