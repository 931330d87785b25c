import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { FakeAdminServer } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';

// `meridian register` against a stand-in for the zone's registry API.
describe('meridian register --ports', () => {
  const server = new FakeAdminServer();
  let url = '';
  const base = () => ['register', '--zone', url, '--token', 't0k-0123456789abcdef', '--service', 'api', '--address', '10.1.2.3', '--port', '8080'];

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.answer(() => ({ status: 201, body: { id: 'api-1', service: 'api', address: '10.1.2.3', port: 8080 } }));
  });

  it('sends every NAME=PORT, listed with commas and repeated', async () => {
    const run = await runCli([...base(), '--ports', 'admin=9101,grpc=9090', '--ports', 'metrics=9300']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(JSON.parse(server.requests[0]!.body).ports, { admin: 9101, grpc: 9090, metrics: 9300 });
  });

  it('sends no ports without the flag', async () => {
    const run = await runCli(base());
    assert.equal(run.code, 0, run.stderr);
    assert.equal('ports' in JSON.parse(server.requests[0]!.body), false);
  });

  it('refuses a malformed or repeated pair before asking the zone', async () => {
    for (const [value, message] of [
      ['admin', /--ports "admin" is not NAME=PORT/],
      ['admin=x', /--ports "admin=x" is not NAME=PORT/],
      ['=9101', /--ports "=9101" is not NAME=PORT/],
      ['admin=9101,admin=9102', /--ports names "admin" twice/],
    ] as const) {
      const run = await runCli([...base(), '--ports', value]);
      assert.equal(run.code, 2, `${value}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    assert.equal(server.requests.length, 0);
  });

  it('shows the zone\'s refusal naming the port', async () => {
    server.answer(() => ({ status: 400, body: { error: 'ports.admin: must be an integer from 1 to 65535', field: 'ports.admin' } }));
    const run = await runCli([...base(), '--ports', 'admin=99999']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ports\.admin: must be an integer from 1 to 65535/);
  });
});
