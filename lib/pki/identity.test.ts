import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIdentity, isIdentity, matchIdentityPattern, parseIdentity, parseTrustDomainId, trustDomainId } from './identity';
import { assertPkiError } from '../../test-support/pki-fixtures';

const EDGE = 'spiffe://meridian.local/region/fra/edge/fra-1';

describe('formatIdentity and parseIdentity', () => {
  it('round-trip every role', () => {
    for (const role of ['edge', 'ingress', 'zone', 'global'] as const) {
      const parts = { trustDomain: 'meridian.local', region: 'fra', role, name: 'n-1' };
      const uri = formatIdentity(parts);
      assert.equal(uri, `spiffe://meridian.local/region/fra/${role}/n-1`);
      assert.deepEqual(parseIdentity(uri), parts);
    }
  });

  it('formatIdentity names the bad part', () => {
    assertPkiError(() => formatIdentity({ trustDomain: 'meridian.local', region: 'fra', role: 'edge', name: 'a/b' }), 'invalid-identity', /name "a\/b" must be a DNS label/);
    assertPkiError(() => formatIdentity({ trustDomain: 'meridian.local', region: 'FRA', role: 'edge', name: 'x' }), 'invalid-identity', /region "FRA" must be a DNS label/);
    assertPkiError(() => formatIdentity({ trustDomain: 'meridian.local', region: 'fra', role: 'admin' as never, name: 'x' }), 'invalid-identity', /role "admin" must be one of edge, ingress, zone, global, service/);
  });

  const refusals: Array<[string, RegExp]> = [
    ['', /empty/],
    ['https://meridian.local/region/fra/edge/x', /must start with spiffe:\/\//],
    ['SPIFFE://meridian.local/region/fra/edge/x', /must start with spiffe:\/\//],
    ['spiffe://Meridian.local/region/fra/edge/x', /trust domain "Meridian.local" must be lower-case/],
    ['spiffe://meridian.local:443/region/fra/edge/x', /port/],
    ['spiffe://user@meridian.local/region/fra/edge/x', /user info/],
    ['spiffe://meridian.local/region/fra/edge/x?y=1', /query/],
    ['spiffe://meridian.local/region/fra/edge/x#f', /fragment/],
    ['spiffe://meridian.local/region/fra/edge/x%41', /percent-encoding/],
    ['spiffe://meridian.local/region/fra/edge', /exactly 4 segments .* has 3/],
    ['spiffe://meridian.local/region/fra/edge/x/y', /exactly 4 segments .* has 5/],
    ['spiffe://meridian.local/region/fra/edge/x/', /exactly 4 segments .* has 5/],
    ['spiffe://meridian.local/zone/fra/edge/x', /first path segment must be "region", got "zone"/],
    ['spiffe://meridian.local/region//edge/x', /region "" must be a DNS label/],
    ['spiffe://meridian.local/region/fra/admin/x', /role "admin" must be one of edge, ingress, zone, global, service/],
    ['spiffe://meridian.local/region/fra/edge/X', /name "X" must be a DNS label/],
    ['spiffe://meridian.local/region/fra/edge/-x', /name "-x" must be a DNS label/],
  ];
  for (const [uri, reason] of refusals) {
    it(`refuses ${JSON.stringify(uri)} with a reason`, () => {
      assertPkiError(() => parseIdentity(uri), 'invalid-identity', reason);
      assert.equal(isIdentity(uri), false);
    });
  }
});

describe('trust domain IDs', () => {
  it('formats and reads spiffe://<trust-domain>', () => {
    assert.equal(trustDomainId('meridian.local'), 'spiffe://meridian.local');
    assert.equal(parseTrustDomainId('spiffe://meridian.local'), 'meridian.local');
    assert.equal(parseTrustDomainId(EDGE), null);
    assertPkiError(() => trustDomainId('Meridian'), 'invalid-identity', /trust domain "Meridian"/);
  });
});

describe('matchIdentityPattern', () => {
  const everyEdge = 'spiffe://meridian.local/region/*/edge/*';

  it('"*" matches one segment in any position', () => {
    assert.equal(matchIdentityPattern(everyEdge, EDGE), true);
    assert.equal(matchIdentityPattern(everyEdge, 'spiffe://meridian.local/region/iad/edge/iad-7'), true);
    assert.equal(matchIdentityPattern('spiffe://meridian.local/region/fra/*/*', 'spiffe://meridian.local/region/fra/ingress/i-1'), true);
    assert.equal(matchIdentityPattern(EDGE, EDGE), true);
  });

  it('does not match other roles, regions or trust domains', () => {
    assert.equal(matchIdentityPattern(everyEdge, 'spiffe://meridian.local/region/fra/ingress/fra-1'), false);
    assert.equal(matchIdentityPattern(everyEdge, 'spiffe://other.local/region/fra/edge/fra-1'), false);
    assert.equal(matchIdentityPattern('spiffe://meridian.local/region/iad/edge/*', EDGE), false);
  });

  it('"*" never spans segments: shorter or longer patterns do not match', () => {
    assert.equal(matchIdentityPattern('spiffe://meridian.local/*', EDGE), false);
    assert.equal(matchIdentityPattern('spiffe://meridian.local/region/*/*', EDGE), false);
    assert.equal(matchIdentityPattern('spiffe://meridian.local/region/*/edge/*/*', EDGE), false);
  });

  it('never matches something that is not an identity', () => {
    assert.equal(matchIdentityPattern(everyEdge, 'spiffe://meridian.local/region/fra/edge/x/'), false);
    assert.equal(matchIdentityPattern('spiffe://meridian.local/region/*/admin/*', 'spiffe://meridian.local/region/fra/admin/x'), false);
  });

  it('throws on a malformed pattern', () => {
    assertPkiError(() => matchIdentityPattern('spiffe://meridian.local/region/fra*/edge/*', EDGE), 'invalid-identity', /"\*" must stand alone/);
    assertPkiError(() => matchIdentityPattern('meridian.local/region/*/edge/*', EDGE), 'invalid-identity', /must start with spiffe:\/\//);
    assertPkiError(() => matchIdentityPattern('spiffe://meridian.local//*/edge/*', EDGE), 'invalid-identity', /non-empty/);
  });
});
