import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, resource } from '../validation-assertions';

const permission = (spec: unknown) => resource('TrafficPermission', spec, 'echo');

describe('TrafficPermission', () => {
  it('accepts the example', () => {
    const spec = { service: 'echo', allow: [{ identity: 'spiffe://meridian.local/region/*/edge/*' }, { identity: 'spiffe://meridian.local/region/fra/ingress/fra-1' }] };
    assert.deepEqual(accept(permission(spec)).spec, spec);
    accept(permission({ ...spec, service: '*' }));
  });

  it('needs at least one identity', () => {
    assertRefused(permission({ service: 'echo', allow: [] }), 'spec.allow', 'needs at least one identity to allow');
  });

  it('needs SPIFFE IDs whose wildcards are whole segments', () => {
    assertRefused(permission({ service: 'echo', allow: [{ identity: 'meridian.local/region/fra' }] }), 'spec.allow[0].identity', /^must be a SPIFFE ID such as spiffe:\/\/meridian\.local\/region\/\*\/edge\/\*/);
    assertRefused(permission({ service: 'echo', allow: [{ identity: 'spiffe://meridian.local/region/fra*' }] }), 'spec.allow[0].identity', /^"\*" must stand alone as a whole path segment/);
  });

  it('bounds the allow list at 256 identities of at most 2048 characters', () => {
    const allow = (n: number) => Array.from({ length: n }, (_, i) => ({ identity: `spiffe://meridian.local/caller/${i}` }));
    accept(permission({ service: 'echo', allow: allow(256) }));
    assertRefused(permission({ service: 'echo', allow: allow(257) }), 'spec.allow', 'must list at most 256 identities');
    const prefix = 'spiffe://meridian.local/';
    const longest = prefix + 'a'.repeat(2048 - prefix.length);
    accept(permission({ service: 'echo', allow: [{ identity: longest }] }));
    assertRefused(permission({ service: 'echo', allow: [{ identity: `${longest}a` }] }), 'spec.allow[0].identity', 'must be at most 2048 characters, got 2049');
  });
});
