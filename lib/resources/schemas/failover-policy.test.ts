import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, resource } from '../validation-assertions';

const policy = (spec: unknown) => resource('FailoverPolicy', spec, 'echo');

describe('FailoverPolicy', () => {
  it('accepts the example', () => {
    const spec = { service: 'echo', rules: [{ from: 'fra', regions: ['fra', 'sin', 'iad'] }, { from: '*', regions: ['iad'] }] };
    assert.deepEqual(accept(policy(spec)).spec, spec);
    accept(policy({ ...spec, service: '*' }));
  });

  it('refuses a region listed twice, pointing at the repeat', () => {
    assertRefused(policy({ service: 'echo', rules: [{ from: 'fra', regions: ['fra', 'sin', 'fra'] }] }), 'spec.rules[0].regions[2]', "repeats region 'fra' (already at regions[0])");
  });

  it('needs at least one rule and one region', () => {
    assertRefused(policy({ service: 'echo', rules: [] }), 'spec.rules', 'needs at least one rule');
    assertRefused(policy({ service: 'echo', rules: [{ from: 'fra', regions: [] }] }), 'spec.rules[0].regions', 'needs at least one region');
    assertRefused(policy({ service: 'echo' }), 'spec.rules', 'required');
  });

  it('checks region names', () => {
    assertRefused(policy({ service: 'echo', rules: [{ from: 'FRA', regions: ['fra'] }] }), 'spec.rules[0].from', 'must be a region name (a DNS label) or "*", got "FRA"');
    assertRefused(policy({ service: 'echo', rules: [{ from: 'fra', regions: ['*'] }] }), 'spec.rules[0].regions[0]', /^must be a DNS label/);
  });

  it('bounds rules at 100 and regions per rule at 64', () => {
    const regions = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);
    const rules = (n: number) => Array.from({ length: n }, () => ({ from: '*', regions: ['fra'] }));
    accept(policy({ service: 'echo', rules: [{ from: 'fra', regions: regions(64) }, ...rules(99)] }));
    assertRefused(policy({ service: 'echo', rules: rules(101) }), 'spec.rules', 'must list at most 100 rules');
    assertRefused(policy({ service: 'echo', rules: [{ from: 'fra', regions: regions(65) }] }), 'spec.rules[0].regions', 'must list at most 64 regions');
  });
});
