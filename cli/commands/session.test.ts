import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { errorBody, FakeAdminServer } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';

describe('meridian session', () => {
  const server = new FakeAdminServer();
  let url = '';
  const fra = { region: 'fra', zoneId: 'fra-1a2b3c4d', replica: 'gc-1', identity: `sha256:${'ab'.repeat(32)}`, since: '2026-12-07T10:05:00.000Z', auth: 'mtls' };

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('lists the live sessions as a table, and as the API JSON with -o json', async () => {
    server.answer(() => ({ body: { sessions: [fra, { ...fra, region: 'iad', zoneId: 'iad-99', auth: 'token' }] } }));
    const run = await runCli(['session', 'list', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].url, '/v1/zone-sessions');
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^REGION\s+ZONE\s+REPLICA\s+SINCE\s+JOINED\s+ZONE CA KEY$/);
    assert.match(lines[1]!, /^fra\s+fra-1a2b3c4d\s+gc-1\s+2026-12-07T10:05:00.000Z\s+mutual TLS\s+sha256:abab/);
    assert.match(lines[2]!, /^iad\s+iad-99\s+.*join token/);
    const json = await runCli(['session', 'list', '-o', 'json', '--server', url]);
    assert.equal(JSON.parse(json.stdout).sessions[0].identity, fra.identity);
  });

  it('ends a region session, saying the key is revoked and how the region comes back', async () => {
    server.answer(() => ({ body: { ...fra, ended: true, revokedAt: '2026-12-07T11:00:00.000Z' } }));
    const run = await runCli(['session', 'end', 'fra', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].method, 'DELETE');
    assert.equal(server.requests[0].url, '/v1/zone-sessions/fra');
    assert.match(run.stdout, /zone session of region fra ended \(zone fra-1a2b3c4d\); zone CA key sha256:abab\S+ revoked/);
    assert.match(run.stdout, /meridian token create --region fra/);
  });

  it('passes refusals on, and needs a region to end', async () => {
    server.answer(() => ({ status: 404, body: errorBody('region sin has no live zone session') }));
    const missing = await runCli(['session', 'end', 'sin', '--server', url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /region sin has no live zone session/);
    const noRegion = await runCli(['session', 'end', '--server', url]);
    assert.equal(noRegion.code, 2);
    assert.match(noRegion.stderr, /missing the REGION/);
  });
});
