import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import { connectionOptions } from '../admin-client';
import { parseCommandArgs } from '../args';
import { errorBody, FakeAdminServer } from '../testing/fake-admin-server';
import { runCli } from '../testing/run-cli';
import { listInstanceTokens, revokeInstanceToken } from './instance-token';

// What the command wrote to stdout (as text; the test runner's own reports,
// which are buffers, go through).
async function stdoutOf(run: () => Promise<void>): Promise<string> {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    typeof chunk === 'string' ? ((out += chunk), true) : (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest)) as typeof process.stdout.write;
  try {
    await run();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('meridian token ... --instance', () => {
  const server = new FakeAdminServer();
  let url = '';
  const record = { id: '0123456789abcdef', region: 'fra', service: 'echo', createdAt: '2026-12-07T10:00:00.000Z', expiresAt: '2027-01-06T10:00:00.000Z', state: 'active' };

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('create prints only the token on stdout, what it is for on stderr', async () => {
    server.answer(() => ({ status: 201, body: { token: 'mit1.abc.def', ...record } }));
    const run = await runCli(['token', 'create', '--instance', '--region', 'fra', '--service', 'echo', '--ttl', '30d', '--server', url]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'mit1.abc.def\n');
    assert.equal(run.stderr, 'instance token 0123456789abcdef for service echo in region fra expires at 2027-01-06T10:00:00.000Z\n');
    assert.equal(server.requests[0]!.url, '/v1/instance-tokens');
    assert.deepEqual(JSON.parse(server.requests[0]!.body), { region: 'fra', service: 'echo', ttl: '30d' });
  });

  it('create needs --region and --service, and says why the server refused', async () => {
    const noRegion = await runCli(['token', 'create', '--instance', '--service', 'echo', '--server', url]);
    assert.equal(noRegion.code, 2);
    assert.match(noRegion.stderr, /missing --region NAME/);
    const noService = await runCli(['token', 'create', '--instance', '--region', 'fra', '--server', url]);
    assert.equal(noService.code, 2);
    assert.match(noService.stderr, /missing --service NAME \(or --service "\*" for every service of the region\)/);
    assert.equal(server.requests.length, 0);
    server.answer(() => ({ status: 400, body: errorBody('ttl: must be more than 0 and at most 365 days') }));
    const tooLong = await runCli(['token', 'create', '--instance', '--region', 'fra', '--service', 'echo', '--ttl', '400d', '--server', url]);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /ttl: must be more than 0 and at most 365 days/);
  });

  it('list prints a table of the records; revoke says what it revoked', async () => {
    server.answer(() => ({ body: { tokens: [record, { ...record, id: 'fedcba9876543210', service: '*', state: 'revoked', revokedAt: '2026-12-07T11:00:00.000Z' }] } }));
    const args = parseCommandArgs('token', ['--server', url], { ...connectionOptions });
    const table = await stdoutOf(() => listInstanceTokens(args));
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+REGION\s+SERVICE\s+STATE\s+CREATED\s+EXPIRES\s+REVOKED$/);
    assert.match(lines[2]!, /^fedcba9876543210\s+fra\s+\*\s+revoked\s+.*2026-12-07T11:00:00.000Z$/);

    server.answer(() => ({ body: { ...record, state: 'revoked', revokedAt: '2026-12-07T12:00:00.000Z' } }));
    const revoked = await stdoutOf(() => revokeInstanceToken(args, record.id));
    assert.equal(revoked, 'instance token 0123456789abcdef revoked (region fra, service echo) at 2026-12-07T12:00:00.000Z\n');
    assert.equal(server.requests.at(-1)!.method, 'DELETE');
    assert.equal(server.requests.at(-1)!.url, '/v1/instance-tokens/0123456789abcdef');
  });
});
