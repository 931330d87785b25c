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
    assert.equal(run.stderr, 'token for region fra expires at 2026-11-23T10:00:00.000Z\n');
    assert.equal(server.requests[0].method, 'POST');
    assert.equal(server.requests[0].url, '/v1/tokens');
    assert.deepEqual(JSON.parse(server.requests[0].body), { region: 'fra', ttl: '1h' });
  });

  it('leaves the ttl to the server when none is given', async () => {
    const run = await runCli(['token', 'create', '--region', 'sin', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(server.requests[0].body), { region: 'sin' });
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
    const run = await runCli(['token', 'create', '--region', 'fra', '--server', url, '--token', 'reader']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, 'error: forbidden: the read role may not POST /v1/tokens (this needs an admin token)\n');
  });
});
