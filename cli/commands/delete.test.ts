import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { errorBody, FakeAdminServer } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';

describe('meridian delete', () => {
  const server = new FakeAdminServer();
  let url = '';

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('deletes one resource and says so', async () => {
    server.answer(() => ({ body: { revision: 9 } }));
    const run = await runCli(['delete', 'services', 'echo', '--server', url, '--token', 't0k-0123456789abcdef']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'service/echo deleted\n');
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].method, 'DELETE');
    assert.equal(server.requests[0].url, '/v1/resources/services/echo');
    assert.equal(server.requests[0].headers.authorization, 'Bearer t0k-0123456789abcdef');
  });

  it('names the kind in lower case whatever spelling was used', async () => {
    server.answer(() => ({ body: { revision: 9 } }));
    const run = await runCli(['delete', 'ResiliencePolicy', 'default', '--server', url]);
    assert.equal(run.stdout, 'resiliencepolicy/default deleted\n');
    assert.equal(server.requests[0].url, '/v1/resources/resiliencepolicies/default');
  });

  it('reports a resource that is not there', async () => {
    server.answer(() => ({ status: 404, body: errorBody('Service/echo not found') }));
    const run = await runCli(['delete', 'service', 'echo', '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, 'error: not found: Service/echo not found\n');
  });

  it('needs a kind and a name', async () => {
    const run = await runCli(['delete', 'service', '--server', url]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^error: missing KIND and NAME/);
    assert.equal(server.requests.length, 0);
  });
});
