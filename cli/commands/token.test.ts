import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { errorBody, FakeAdminServer } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';

describe('meridian token create', () => {
  const server = new FakeAdminServer();
  let url = '';

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.answer((req) => {
      const { region } = JSON.parse(req.body) as { region: string };
      return { body: { token: 'mrd_join_abc123', region, expiresAt: '2026-11-23T10:00:00.000Z' } };
    });
  });

  it('prints only the token on stdout and the expiry on stderr', async () => {
    const run = await runCli(['token', 'create', '--region', 'fra', '--ttl', '1h', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'mrd_join_abc123\n');
    assert.equal(run.stderr, 'token for region fra expires at 2026-11-23T10:00:00.000Z; it is good for one join\n');
    assert.equal(server.requests[0].method, 'POST');
    assert.equal(server.requests[0].url, '/v1/tokens');
    assert.deepEqual(JSON.parse(server.requests[0].body), { region: 'fra', ttl: '1h' });
  });

  it('leaves the ttl to the server when none is given', async () => {
    const run = await runCli(['token', 'create', '--region', 'sin', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(server.requests[0].body), { region: 'sin' });
  });

  it('names the token id on stderr when the server gives one', async () => {
    server.answer(() => ({ body: { token: 'mzt1.a.b', id: '3f9c0a7d12e4b856', region: 'fra', expiresAt: '2026-11-23T10:00:00.000Z' } }));
    const run = await runCli(['token', 'create', '--region', 'fra', '--server', url]);
    assert.equal(run.stdout, 'mzt1.a.b\n');
    assert.equal(run.stderr, 'token 3f9c0a7d12e4b856 for region fra expires at 2026-11-23T10:00:00.000Z; it is good for one join\n');
  });

  it('needs --region and the create subcommand', async () => {
    const noRegion = await runCli(['token', 'create', '--server', url]);
    assert.equal(noRegion.code, 2);
    assert.match(noRegion.stderr, /^error: missing --region NAME/);
    const noSub = await runCli(['token', '--region', 'fra', '--server', url]);
    assert.equal(noSub.code, 2);
    assert.equal(server.requests.length, 0);
  });

  it('explains that a read token cannot create tokens', async () => {
    server.answer(() => ({ status: 403, body: errorBody('the read role may not POST /v1/tokens') }));
    const run = await runCli(['token', 'create', '--region', 'fra', '--server', url, '--token', 'reader-0123456789abcdef']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, 'error: forbidden: the read role may not POST /v1/tokens (this needs an admin token)\n');
  });
});

describe('meridian token list and revoke', () => {
  const server = new FakeAdminServer();
  let url = '';
  const used = {
    id: '3f9c0a7d12e4b856', region: 'fra', state: 'used', createdAt: '2026-12-07T10:00:00.000Z', expiresAt: '2026-12-08T10:00:00.000Z',
    createdBy: 'admin API (replica gc-1)', usedAt: '2026-12-07T10:05:00.000Z', usedBy: 'fra-1a2b3c4d', revokedAt: null,
  };
  const unused = { ...used, id: '0011223344556677', region: 'iad', state: 'unused', usedAt: null, usedBy: null };

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('lists join tokens as a table, and as the API JSON with -o json', async () => {
    server.answer(() => ({ body: { tokens: [used, unused] } }));
    const run = await runCli(['token', 'list', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].method, 'GET');
    assert.equal(server.requests[0].url, '/v1/tokens');
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+REGION\s+STATE\s+CREATED\s+EXPIRES\s+USED\s+USED BY$/);
    assert.match(lines[1]!, /^3f9c0a7d12e4b856\s+fra\s+used\s+.*2026-12-07T10:05:00.000Z\s+fra-1a2b3c4d$/);
    assert.match(lines[2]!, /^0011223344556677\s+iad\s+unused\s+.*\s-\s+-$/);
    const json = await runCli(['token', 'list', '-o', 'json', '--server', url]);
    assert.deepEqual(JSON.parse(json.stdout), { tokens: [used, unused] });
    const bad = await runCli(['token', 'list', '-o', 'yaml', '--server', url]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown output format "yaml"/);
  });

  it('says so when there are none', async () => {
    server.answer(() => ({ body: { tokens: [] } }));
    const run = await runCli(['token', 'list', '--server', url]);
    assert.equal(run.stdout, 'No join tokens.\n');
  });

  it('revokes a token by id, and passes the 404 of an unknown one on', async () => {
    server.answer(() => ({ body: { ...used, state: 'revoked', revokedAt: '2026-12-07T11:00:00.000Z' } }));
    const run = await runCli(['token', 'revoke', '3f9c0a7d12e4b856', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].method, 'DELETE');
    assert.equal(server.requests[0].url, '/v1/tokens/3f9c0a7d12e4b856');
    assert.equal(run.stdout, 'join token 3f9c0a7d12e4b856 (region fra) revoked; it had been used by zone fra-1a2b3c4d at 2026-12-07T10:05:00.000Z\n');
    server.answer(() => ({ status: 404, body: errorBody('no join token 00 (unknown, or expired and pruned)') }));
    const missing = await runCli(['token', 'revoke', '00', '--server', url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no join token 00/);
  });

  it('needs the id to revoke and a known subcommand', async () => {
    const noId = await runCli(['token', 'revoke', '--server', url]);
    assert.equal(noId.code, 2);
    assert.match(noId.stderr, /missing the ID/);
    const unknown = await runCli(['token', 'burn', '--server', url]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown token command "burn": use create, list or revoke/);
    assert.equal(server.requests.length, 0);
  });
});
