import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideClaim, revokedMessage, type ZoneSessionRecord } from './zone-session-claim';

const held: ZoneSessionRecord = {
  region: 'fra',
  sessionId: 's1',
  zoneId: 'fra-1a2b',
  replica: 'gc-1',
  identity: `sha256:${'a'.repeat(64)}`,
  auth: 'mtls',
  sinceMs: Date.parse('2026-12-07T10:00:00Z'),
};

describe('one live zone session per region', () => {
  it('takes a free region', () => {
    assert.deepEqual(decideClaim(undefined, { region: 'fra', identity: held.identity }), { take: true });
  });

  it('lets the same zone CA key replace its own session', () => {
    assert.deepEqual(decideClaim(held, { region: 'fra', identity: held.identity }), { take: true, replaces: held });
  });

  it('refuses another key, naming the live session and how it ends', () => {
    const d = decideClaim(held, { region: 'fra', identity: `sha256:${'b'.repeat(64)}` });
    assert.equal(d.take, false);
    assert.equal(
      (d as { reason: string }).reason,
      `region fra already has a live zone session with another zone CA: zone fra-1a2b on replica gc-1 since 2026-12-07T10:00:00.000Z (zone CA ${held.identity}); ` +
        'it ends when that zone disconnects, or an operator ends it with meridian session end fra',
    );
  });

  it('says a revoked zone CA was revoked by an operator and how to rejoin', () => {
    assert.match(
      revokedMessage({ identity: held.identity, region: 'fra', zoneId: 'fra-1a2b', revokedAtMs: Date.parse('2026-12-07T11:00:00Z') }),
      /^zone CA sha256:a+ of region fra \(zone fra-1a2b\) was revoked by an operator at 2026-12-07T11:00:00.000Z; rejoin with a new join token \(meridian token create --region fra\)/,
    );
  });
});
