import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKindName, KINDS, pluralOf, resolveKind, singularOf } from './kinds';

describe('kinds', () => {
  it('lists the eight kinds', () => {
    assert.deepEqual(
      [...KINDS],
      ['Region', 'Service', 'TrafficRoute', 'ResiliencePolicy', 'FailoverPolicy', 'TrafficPermission', 'Instance', 'Certificate'],
    );
  });

  it('names each kind by its lower-case plural', () => {
    assert.deepEqual(KINDS.map(pluralOf), [
      'regions',
      'services',
      'trafficroutes',
      'resiliencepolicies',
      'failoverpolicies',
      'trafficpermissions',
      'instances',
      'certificates',
    ]);
    assert.equal(singularOf('ResiliencePolicy'), 'resiliencepolicy');
  });

  it('resolves the kind, its singular and its plural', () => {
    for (const kind of KINDS) {
      assert.equal(resolveKind(kind), kind);
      assert.equal(resolveKind(singularOf(kind)), kind);
      assert.equal(resolveKind(pluralOf(kind)), kind);
    }
    assert.equal(resolveKind('failoverpolicies'), 'FailoverPolicy');
    assert.equal(resolveKind('Services'), 'Service');
  });

  it('resolves nothing else', () => {
    for (const word of ['', 'svc', 'service ', 'resiliencepolicys', 'List', 'regionss']) {
      assert.equal(resolveKind(word), undefined, word);
    }
  });

  it('isKindName accepts only exact kind names', () => {
    assert.equal(isKindName('Service'), true);
    assert.equal(isKindName('service'), false);
    assert.equal(isKindName(undefined), false);
  });
});
