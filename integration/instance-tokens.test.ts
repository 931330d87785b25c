// Instance tokens against real processes (etcd, two global controller
// replicas, a zone controller): what the registry refuses and why, a
// revocation made on another replica reaching the zone, and the zone still
// refusing the revoked token after a restart while the global controller is
// away.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { waitFor } from './harness/child-process';
import { MERIDIAN_BIN, repoRoot } from '../test-support/repo-root';
import { makeInstanceToken } from '../lib/auth/instance-token';
import { parseDocuments } from '../lib/resources';
// eslint-disable-next-line import-x/no-restricted-paths -- the zone's saved instances are written by the zone's own registry code, as a stopped zone left them
import { InstanceRegistry } from '../zone-controller/registry/instance-registry';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MERIDIAN_BIN(), ...args], { timeout: 20_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const apiService = `apiVersion: meridian.dev/v1
kind: Service
metadata: {name: api}
spec: {hosts: [api.example.com]}
`;

describe('instance tokens', () => {
  const cp = new ControlPlane();
  let zone: ZoneProcess;
  let echoToken: string;

  before(async () => {
    await cp.start(2);
    const docs = ['regions.yaml', 'echo.yaml'].flatMap((f) => parseDocuments(fs.readFileSync(path.join(repoRoot(), 'examples', f), 'utf8'), f));
    docs.push(...parseDocuments(apiService, 'api.yaml'));
    assert.equal((await cp.api('POST', '/v1/apply', docs)).status, 200);
    zone = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir);
    echoToken = (await cp.instanceToken('fra', 'echo')).token;
    zone.instanceToken = echoToken;
    zone.start();
    await zone.waitUp(true);
  });

  after(async () => {
    await zone?.stop();
    await cp.stop();
  });

  it('the admin API makes, lists and validates them; the signing key is sealed in etcd', async () => {
    const made = await cp.api('POST', '/v1/instance-tokens', { region: 'fra', service: 'echo', ttl: '30d' });
    assert.equal(made.status, 201);
    assert.match(made.body.token, /^mit1\./);
    assert.equal(made.body.service, 'echo');
    const days = (Date.parse(made.body.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
    const listed = await cp.api('GET', '/v1/instance-tokens');
    const record = listed.body.tokens.find((t: { id: string }) => t.id === made.body.id);
    assert.deepEqual(Object.keys(record).sort(), ['createdAt', 'expiresAt', 'id', 'region', 'service', 'state']);
    assert.equal(record.state, 'active');
    assert.ok(!JSON.stringify(listed.body).includes(made.body.token), 'the list never shows a token');

    const refused = async (body: unknown, pattern: RegExp) => {
      const res = await cp.api('POST', '/v1/instance-tokens', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.error, pattern);
    };
    await refused({ region: 'FRA', service: 'echo' }, /^region: /);
    await refused({ region: 'fra', service: 'Echo!' }, /^service: must be a service name .* or "\*"/);
    await refused({ region: 'fra' }, /^service: /);
    await refused({ region: 'fra', service: 'echo', ttl: '366d' }, /^ttl: must be more than 0 and at most 365 days/);
    await refused({ region: 'fra', service: 'echo', ttl: 'forever' }, /^ttl: /);
    await refused({ region: 'fra', service: 'echo', scope: 'all' }, /^scope: unknown field/);
    assert.equal((await cp.api('DELETE', '/v1/instance-tokens/0123456789abcdef')).status, 404);

    // `meridian token create --instance` prints the token alone on stdout.
    const admin = { MERIDIAN_SERVER: cp.primary.url, MERIDIAN_TOKEN: 'test-admin-token-0123456789abcdef' };
    const created = await cli(['token', 'create', '--instance', '--region', 'fra', '--service', 'echo', '--ttl', '12h'], admin);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^mit1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    assert.match(created.stderr, /^instance token [0-9a-f]{16} for service echo in region fra expires at /);
    const noService = await cli(['token', 'create', '--instance', '--region', 'fra'], admin);
    assert.equal(noService.code, 2);
    assert.match(noService.stderr, /missing --service NAME/);
    const tooLong = await cli(['token', 'create', '--instance', '--region', 'fra', '--service', 'echo', '--ttl', '400d'], admin);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /ttl: must be more than 0 and at most 365 days/);
    assert.equal((await cp.api('POST', '/v1/instance-tokens', { region: 'fra', service: 'echo' }, 'test-read-token-0123456789abcdef')).status, 403);

    const etcd = new Etcd3({ hosts: cp.etcd.endpoint });
    try {
      const all = await etcd.getAll().strings();
      for (const [key, value] of Object.entries(all)) assert.ok(!/PRIVATE KEY/.test(value), `${key} holds a private key in the clear`);
      const stored = JSON.parse(all['/meridian/system/instance-token-signing-key']!);
      assert.equal(stored.sealedPrivateKey.purpose, 'instance-token-signing-key');
      assert.equal(stored.sealedPrivateKey.record, 'instance-token-signing-key');
      assert.match(stored.publicKey, /BEGIN PUBLIC KEY/);
    } finally {
      etcd.close();
    }
  });

  it('the registry refuses a missing or wrong token (401), another service or region (403), and addresses outside the region (403)', async () => {
    const body = { service: 'echo', address: '127.0.0.1', port: 12999, weight: 100 };
    const none = await zone.register(body, '');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.match(none.body.error, /instance token is required/);
    assert.equal((await zone.register(body, 'mit1.junk.junk')).status, 401);
    const forged = makeInstanceToken(generateKeyPairSync('ed25519').privateKey, { region: 'fra', service: '*' }, 3600_000).token;
    const forgedReply = await zone.register(body, forged);
    assert.equal(forgedReply.status, 401);
    assert.match(forgedReply.body.error, /signature is not valid for this mesh/);

    const apiToken = (await cp.instanceToken('fra', 'api')).token;
    const otherService = await zone.register(body, apiToken);
    assert.equal(otherService.status, 403);
    assert.match(otherService.body.error, /is for service 'api', not 'echo'/);
    const otherRegion = await zone.register(body, (await cp.instanceToken('iad', 'echo')).token);
    assert.equal(otherRegion.status, 403);
    assert.match(otherRegion.body.error, /is for region 'iad', this zone is 'fra'/);

    const outside = await zone.register({ ...body, address: '10.1.2.3' });
    assert.equal(outside.status, 403);
    assert.equal(outside.body.field, 'address');
    assert.match(outside.body.error, /10\.1\.2\.3 is outside the region's instance networks \(spec\.instanceNetworks: 127\.0\.0\.0\/8, ::1\/128\)/);
    const metadata = await zone.register({ ...body, address: '169.254.169.254', port: 80 });
    assert.equal(metadata.status, 403);
    assert.match(metadata.body.error, /169\.254\.169\.254 is a cloud metadata service address/);
    const heavy = await zone.register({ ...body, weight: 1000 });
    assert.equal(heavy.status, 400);
    assert.equal(heavy.body.field, 'weight');
    assert.deepEqual(await zone.instances(), [], 'nothing was registered');

    // The CLI says why, and asks for a token before calling.
    const cliNone = await cli(['register', '--zone', zone.url, '--service', 'echo', '--address', '127.0.0.1', '--port', '12999'], { MERIDIAN_INSTANCE_TOKEN: '' });
    assert.equal(cliNone.code, 1);
    assert.match(cliNone.stderr, /register needs an instance token: --token TOKEN or MERIDIAN_INSTANCE_TOKEN/);
    const cliForged = await cli(['register', '--zone', zone.url, '--token', forged, '--service', 'echo', '--address', '127.0.0.1', '--port', '12999']);
    assert.match(cliForged.stderr, /the zone controller refused the instance token: instance token signature is not valid for this mesh \(HTTP 401\)/);
    const cliScope = await cli(['register', '--zone', zone.url, '--service', 'echo', '--address', '127.0.0.1', '--port', '12999'], { MERIDIAN_INSTANCE_TOKEN: apiToken });
    assert.match(cliScope.stderr, /is for service 'api', not 'echo'.*\(HTTP 403/);

    // The right token registers; reads from loopback need none and show who registered it.
    const ok = await zone.register({ ...body, id: 'echo-a' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const seen = (await zone.instances()).find((i) => i.id === 'echo-a');
    assert.ok(seen?.tokenId, 'the instance names the token that registered it');
    const byApi = await zone.deregister('echo-a', apiToken);
    assert.equal(byApi.status, 403);
    assert.equal((await zone.deregister('echo-a', '')).status, 401);
    assert.equal((await zone.deregister('echo-a')).status, 200);
  });

  it('a token revoked on another replica is refused by the zone, also after the global controller stopped and the zone restarted', async () => {
    const doomed = await cp.instanceToken('fra', 'echo');
    const kept = await cp.instanceToken('fra', '*');
    assert.equal((await zone.register({ id: 'echo-doomed', service: 'echo', address: '127.0.0.1', port: 13001 }, doomed.token)).status, 201);

    // The zone is connected to the first replica; revoke on the second.
    const revoked = await cp.api('DELETE', `/v1/instance-tokens/${doomed.id}`, undefined, undefined, cp.replicas[1]);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.state, 'revoked');
    const refusedNow = await waitFor('the zone to refuse the revoked token', async () => {
      const r = await zone.register({ service: 'echo', address: '127.0.0.1', port: 13002 }, doomed.token);
      return r.status === 401 ? r : undefined;
    }, 20_000, 200);
    assert.match(refusedNow.body.error, new RegExp(`instance token ${doomed.id} has been revoked`));
    assert.equal((await zone.deregister('echo-doomed', doomed.token)).status, 401);
    assert.equal((await cp.api('GET', '/v1/instance-tokens')).body.tokens.find((t: { id: string }) => t.id === doomed.id).state, 'revoked');

    // Global controller gone, zone restarted: it checks tokens from its saved policy.
    await Promise.all(cp.replicas.map((r) => r.stop()));
    await zone.stop();
    // As an older build would have kept it: an instance at the metadata address, saved before addresses were checked.
    const saved = new InstanceRegistry({ filePath: path.join(zone.stateDir, 'instances.json') });
    saved.register({ id: 'echo-metadata', service: 'echo', address: '169.254.169.254', port: 80 });
    await saved.flush();
    zone.start();
    await zone.waitUp(false);
    assert.equal((await zone.instances()).some((i) => i.id === 'echo-metadata'), false, 'the saved metadata instance was dropped');
    assert.match(zone.tail(200), /dropping a saved instance at an address that is always refused/);
    const offlineRevoked = await zone.register({ service: 'echo', address: '127.0.0.1', port: 13003 }, doomed.token);
    assert.equal(offlineRevoked.status, 401);
    assert.match(offlineRevoked.body.error, /has been revoked/);
    const offlineGood = await zone.register({ id: 'echo-offline', service: 'echo', address: '127.0.0.1', port: 13004 }, kept.token);
    assert.equal(offlineGood.status, 201, JSON.stringify(offlineGood.body));
    assert.equal((await zone.register({ service: 'echo', address: '169.254.169.254', port: 80 }, kept.token)).status, 403);
    // The instance registered with the revoked token is still there, named by its token, to clean up.
    assert.equal((await zone.instances()).find((i) => i.id === 'echo-doomed')?.tokenId, doomed.id);

    for (const r of cp.replicas) r.start();
    await Promise.all(cp.replicas.map((r) => r.ready()));
    await zone.waitUp(true);
  });
});
