import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, refuse, resource } from '../validation-assertions';

const route = (spec: unknown) => resource('TrafficRoute', spec, 'echo-canary');
const rule = (extra: Record<string, unknown> = {}) => ({ split: [{ service: 'echo', weight: 1 }], ...extra });
const withMatch = (match: unknown) => route({ service: 'echo', rules: [rule({ match })] });

describe('TrafficRoute', () => {
  it('accepts the example and fills the defaults', () => {
    const spec = accept(
      route({
        service: 'echo',
        rules: [
          {
            match: { pathPrefix: '/v2', methods: ['GET', 'POST'], headers: [{ name: 'X-Canary', exact: '1' }] },
            split: [{ service: 'echo-v2', weight: 10 }, { service: 'echo', weight: 90 }],
          },
          { split: [{ service: 'echo', weight: 1 }] },
        ],
      }),
    ).spec;
    assert.deepEqual(spec, {
      service: 'echo',
      rules: [
        {
          match: { pathPrefix: '/v2', methods: ['GET', 'POST'], headers: [{ name: 'x-canary', exact: '1' }] },
          stripPrefix: false,
          split: [{ service: 'echo-v2', weight: 10 }, { service: 'echo', weight: 90 }],
        },
        { match: {}, stripPrefix: false, split: [{ service: 'echo', weight: 1 }] },
      ],
    });
  });

  it('needs a service and at least one rule with at least one backend', () => {
    assertRefused(route({ rules: [rule()] }), 'spec.service', 'required');
    assertRefused(route({ service: 'echo', rules: [] }), 'spec.rules', 'needs at least one rule');
    assertRefused(route({ service: 'echo', rules: [{ split: [] }] }), 'spec.rules[0].split', 'needs at least one backend');
  });

  it('needs weights from 0 to 100000 with at least one above 0', () => {
    assertRefused(route({ service: 'echo', rules: [rule({ split: [{ service: 'a', weight: 0 }, { service: 'b', weight: 0 }] })] }), 'spec.rules[0].split', 'needs at least one backend with a weight greater than 0');
    assertRefused(route({ service: 'echo', rules: [rule({ split: [{ service: 'a', weight: 100001 }] })] }), 'spec.rules[0].split[0].weight', 'must be an integer from 0 to 100000');
    assertRefused(route({ service: 'echo', rules: [rule({ split: [{ service: 'a' }] })] }), 'spec.rules[0].split[0].weight', 'required');
    accept(route({ service: 'echo', rules: [rule({ split: [{ service: 'a', weight: 0 }, { service: 'b', weight: 100000 }] })] }));
  });

  it('checks the weights even when a backend has an unknown field', () => {
    const errors = refuse(route({ service: 'echo', rules: [rule({ split: [{ service: 'a', weight: 0, wieght: 1 }] })] }));
    assert.deepEqual(errors.map((e) => [e.path, e.message]), [
      ['spec.rules[0].split[0].wieght', "unknown field 'wieght'"],
      ['spec.rules[0].split', 'needs at least one backend with a weight greater than 0'],
    ]);
  });

  it('names only the bad name of a header whose name is not a header name', () => {
    const errors = refuse(withMatch({ headers: [{ name: 'x canary' }] }));
    assert.deepEqual(errors.map((e) => [e.path, e.message]), [['spec.rules[0].match.headers[0].name', 'must be an HTTP header name such as x-canary']]);
  });

  it('needs exactly one of exact, prefix or regex per header match', () => {
    assertRefused(withMatch({ headers: [{ name: 'x-canary' }] }), 'spec.rules[0].match.headers[0]', 'needs exactly one of exact, prefix or regex');
    assertRefused(withMatch({ headers: [{ name: 'x-canary', exact: '1', prefix: '1' }] }), 'spec.rules[0].match.headers[0]', 'needs exactly one of exact, prefix or regex, got exact and prefix');
    accept(withMatch({ headers: [{ name: 'x-canary', prefix: 'a' }, { name: 'x-user', regex: '^[0-9]+$' }] }));
  });

  it('refuses a header regex that does not compile', () => {
    assertRefused(withMatch({ headers: [{ name: 'x-user', regex: '([0-9]' }] }), 'spec.rules[0].match.headers[0].regex', /^is not a valid regular expression: /);
  });

  it('checks path prefixes, methods and header names', () => {
    assertRefused(withMatch({ pathPrefix: 'v2' }), 'spec.rules[0].match.pathPrefix', "must start with '/'");
    assertRefused(withMatch({ methods: ['get'] }), 'spec.rules[0].match.methods[0]', 'must be an HTTP method in upper case, such as GET');
    assertRefused(withMatch({ headers: [{ name: 'x canary', exact: '1' }] }), 'spec.rules[0].match.headers[0].name', 'must be an HTTP header name such as x-canary');
    assertRefused(withMatch({ host: 'x' }), 'spec.rules[0].match.host', "unknown field 'host'");
  });

  it('bounds rules, backends, methods and headers in number', () => {
    const rules = (n: number) => Array.from({ length: n }, () => rule());
    const split = (n: number) => Array.from({ length: n }, (_, i) => ({ service: `b${i}`, weight: 1 }));
    const headers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `x-h${i}`, exact: '1' }));
    const methods = (n: number) => Array.from({ length: n }, (_, i) => `M${String.fromCharCode(65 + i)}`);
    accept(route({ service: 'echo', rules: rules(100) }));
    accept(route({ service: 'echo', rules: [{ match: { methods: methods(16), headers: headers(16) }, split: split(16) }] }));
    assertRefused(route({ service: 'echo', rules: rules(101) }), 'spec.rules', 'must list at most 100 rules');
    assertRefused(route({ service: 'echo', rules: [{ split: split(17) }] }), 'spec.rules[0].split', 'must list at most 16 backends');
    assertRefused(withMatch({ methods: methods(17) }), 'spec.rules[0].match.methods', 'must list at most 16 methods');
    assertRefused(withMatch({ headers: headers(17) }), 'spec.rules[0].match.headers', 'must list at most 16 headers');
  });

  it('bounds the lengths: path and header values 1024, header names 256, methods 32', () => {
    const value = 'v'.repeat(1024);
    accept(withMatch({ pathPrefix: `/${'p'.repeat(1023)}`, methods: ['M'.repeat(32)], headers: [{ name: 'x'.repeat(256), exact: value }, { name: 'x-p', prefix: value }, { name: 'x-r', regex: value }] }));
    assertRefused(withMatch({ pathPrefix: `/${'p'.repeat(1024)}` }), 'spec.rules[0].match.pathPrefix', 'must be at most 1024 characters');
    assertRefused(withMatch({ methods: ['M'.repeat(33)] }), 'spec.rules[0].match.methods[0]', 'must be at most 32 characters');
    assertRefused(withMatch({ headers: [{ name: 'x'.repeat(257), exact: '1' }] }), 'spec.rules[0].match.headers[0].name', 'must be at most 256 characters');
    for (const field of ['exact', 'prefix', 'regex']) {
      assertRefused(withMatch({ headers: [{ name: 'x-a', [field]: `${value}v` }] }), `spec.rules[0].match.headers[0].${field}`, 'must be at most 1024 characters');
    }
  });

  it('bounds a backend weight at 100000', () => {
    accept(route({ service: 'echo', rules: [{ split: [{ service: 'echo', weight: 100_000 }] }] }));
    assertRefused(route({ service: 'echo', rules: [{ split: [{ service: 'echo', weight: 100_001 }] }] }), 'spec.rules[0].split[0].weight', 'must be an integer from 0 to 100000');
  });
});
