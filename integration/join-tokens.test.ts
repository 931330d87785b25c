// Join tokens buy one join, and a region has one live zone session: real
// zone controller processes against two real global controller replicas on a
// real etcd, and a raw federation client where a test needs a second zone
// with a chosen key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ControlPlane, READ_TOKEN } from './harness/global-controller-process';
import { FederationTestClient } from './harness/federation-test-client';
import { ZoneProcess } from './harness/zone-process';
import { waitFor } from './harness/child-process';
import { testZoneCaKey } from './harness/zone-ca-key';
import { generateKeyPairAsync, issueZoneLeaf } from '../lib/pki';
import type { ZoneSessionView } from '../cli/commands/session';

const TD = 'meridian.local';

interface TokenView {
  id: string;
  region: string;
  state: string;
  usedAt: string | null;
  usedBy: string | null;
}

type SessionView = ZoneSessionView;

const service = (name: string) => ({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec: {} });

describe('single-use join tokens and one live zone session per region', () => {
  const cp = new ControlPlane();
  const zones: ZoneProcess[] = [];
  const clients: FederationTestClient[] = [];
  let fra: ZoneProcess;

  const zoneIn = async (name: string, region: string, token: string): Promise<ZoneProcess> => {
    const dir = fs.mkdtempSync(path.join(cp.dir, `${name}-`));
    const z = await ZoneProcess.create(region, cp.primary.grpcPort, token, dir);
    zones.push(z);
    return z;
  };
  const client = (replica = 0, options?: ConstructorParameters<typeof FederationTestClient>[1]) => {
    const c = new FederationTestClient(`127.0.0.1:${cp.replicas[replica]!.grpcPort}`, options);
    clients.push(c);
    return c;
  };
  const tokens = async (): Promise<TokenView[]> => (await cp.api('GET', '/v1/tokens', undefined, READ_TOKEN)).body.tokens;
  const sessions = async (): Promise<SessionView[]> => (await cp.api('GET', '/v1/zone-sessions', undefined, READ_TOKEN)).body.sessions;
  const tokenId = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
  const zoneState = async (z: ZoneProcess) => (await (await fetch(`${z.url}/v1/state`)).json()) as { federated: boolean; lastError: string | null; resources: string[] };

  before(async () => {
    await cp.start(2);
    assert.equal((await cp.api('POST', '/v1/apply', [{ apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name: 'fra' }, spec: { location: { latitude: 50.11, longitude: 8.68 } } }])).status, 200);
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(zones.map((z) => z.stop()));
    await cp.stop();
  });

  it('refuses a TTL over 7 days at create, naming the field; 7 days is the most', async () => {
    const long = await cp.api('POST', '/v1/tokens', { region: 'fra', ttl: '169h' });
    assert.equal(long.status, 400);
    assert.match(long.body.error, /^ttl: '169h' is out of range: .*at most 7 days/);
    const week = await cp.api('POST', '/v1/tokens', { region: 'fra', ttl: '168h' });
    assert.equal(week.status, 200, JSON.stringify(week.body));
    assert.equal(Date.parse(week.body.expiresAt) - Date.now() > 167 * 3600_000, true);
    const listed = (await tokens()).find((t) => t.id === week.body.id);
    assert.equal(listed?.state, 'unused');
    assert.equal(JSON.stringify(await tokens()).includes(week.body.token), false, 'the list never shows a token');
  });

  it('a token joins one zone: a second zone with it is refused and the first keeps its session and its deltas', async () => {
    const token = await cp.token('fra');
    fra = await zoneIn('fra-first', 'fra', token);
    fra.start();
    await fra.waitUp(true);
    const live = await waitFor('fra session', async () => (await sessions()).find((s) => s.region === 'fra'));
    const used = (await tokens()).find((t) => t.id === tokenId(token))!;
    assert.equal(used.state, 'used');
    assert.equal(used.usedBy, live.zoneId);

    const second = await zoneIn('fra-second', 'fra', token);
    second.start();
    await second.waitUp(false);
    const refused = await waitFor('the second zone refused', async () => (await zoneState(second)).lastError ?? undefined);
    assert.match(refused, new RegExp(`^UNAUTHENTICATED: join token ${tokenId(token)} was already used at \\S+ by zone ${live.zoneId}; create a new one with meridian token create --region fra$`));
    assert.equal(fs.existsSync(path.join(second.stateDir, 'zone-ca', 'cert.pem')), false, 'the second zone got no zone CA');
    await second.stop();

    assert.equal((await fra.health()).federated, true, 'the first zone is still joined');
    assert.equal((await sessions()).find((s) => s.region === 'fra')?.zoneId, live.zoneId);
    assert.equal((await cp.api('POST', '/v1/apply', [service('after-second-zone')])).status, 200);
    await waitFor('the first zone gets the delta', async () => (await zoneState(fra)).resources.includes('Service/after-second-zone') || undefined);
  });

  it('a zone whose join broke before Welcome finishes it with the same token and key; another key cannot', async () => {
    const token = await cp.token('ams');
    const key = await testZoneCaKey('ams');
    const first = client();
    first.open({ region: 'ams', joinToken: token, zoneCaCsr: key.csr, zoneId: 'ams-1' });
    await first.next((m) => m.message === 'welcome');
    first.close();
    assert.equal((await tokens()).find((t) => t.id === tokenId(token))?.usedBy, 'ams-1');
    const again = client(1);
    again.open({ region: 'ams', joinToken: token, zoneCaCsr: key.csr, zoneId: 'ams-1' });
    assert.ok((await again.next((m) => m.message === 'welcome')).welcome!.zoneCa!.certificate, 'a zone CA again, for the same key');
    again.close();
    const thief = client();
    thief.open({ region: 'ams', joinToken: token, zoneId: 'ams-2' });
    const status = await thief.ended();
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
    assert.match(status.details, /was already used at \S+ by zone ams-1;/);
  });

  it('a revoked token is refused; revoking needs an admin token and a known id', async () => {
    const token = await cp.token('iad');
    const id = tokenId(token);
    assert.equal((await cp.api('DELETE', `/v1/tokens/${id}`, undefined, READ_TOKEN)).status, 403);
    const revoked = await cp.api('DELETE', `/v1/tokens/${id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.state, 'revoked');
    assert.equal((await cp.api('DELETE', '/v1/tokens/00000000000000aa')).status, 404);
    const c = client();
    c.open({ region: 'iad', joinToken: token });
    const status = await c.ended();
    assert.equal(status.code, grpc.status.UNAUTHENTICATED);
    assert.match(status.details, new RegExp(`^join token ${id} was revoked at \\S+; create a new one with meridian token create --region iad$`));
    assert.equal(c.received.length, 0);
    // A token without a record (as an older global controller made them) joins nothing.
    const unrecorded = await cp.token('iad');
    execFileSync('etcdctl', ['--endpoints', cp.etcd.endpoint, 'del', `/meridian/system/join-tokens/${tokenId(unrecorded)}`], { env: { ...process.env, ETCDCTL_API: '3' } });
    const old = client();
    old.open({ region: 'iad', joinToken: unrecorded });
    const oldStatus = await old.ended();
    assert.equal(oldStatus.code, grpc.status.UNAUTHENTICATED);
    assert.match(oldStatus.details, new RegExp(`^join token ${tokenId(unrecorded)} has no record in this mesh \\(made by an older global controller`));
    // A used token may be revoked too; the list keeps that it was used.
    const usedId = (await tokens()).find((t) => t.state === 'used')!.id;
    assert.equal((await cp.api('DELETE', `/v1/tokens/${usedId}`)).body.state, 'revoked');
    assert.ok((await tokens()).find((t) => t.id === usedId)!.usedBy);
  });

  it('refuses a Hello whose zone id cannot be recorded, naming the field', async () => {
    const c = client();
    c.open({ region: 'iad', joinToken: await cp.token('iad'), zoneId: 'iad zone; drop' });
    const status = await c.ended();
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /^zone_id: 'iad zone; drop' is not a zone controller id/);
  });

  it('a second session for a live region with another zone CA key is refused on any replica; its token stays unspent', async () => {
    // Once the zone came back over mTLS after its join (its session is then stable).
    const live = await waitFor('fra over mTLS', async () => (await sessions()).find((s) => s.region === 'fra' && s.auth === 'mtls'), 20_000);
    for (const replica of [0, 1]) {
      const token = await cp.token('fra');
      const c = client(replica);
      c.open({ region: 'fra', joinToken: token, zoneId: `fra-other-${replica}` });
      const status = await c.ended();
      assert.equal(status.code, grpc.status.ALREADY_EXISTS, status.details);
      assert.match(status.details, new RegExp(`^region fra already has a live zone session with another zone CA: zone ${live.zoneId} on replica ${live.replica} since ${live.since}`));
      assert.equal(c.received.length, 0);
      assert.equal((await tokens()).find((t) => t.id === tokenId(token))?.state, 'unused', 'a refused zone does not spend its token');
    }
    assert.equal((await fra.health()).federated, true);
  });

  it('the same zone coming back replaces its old session, also from another replica, and the old stream ends', async () => {
    const key = await testZoneCaKey('lis');
    const first = client(0);
    first.open({ region: 'lis', joinToken: await cp.token('lis'), zoneCaCsr: key.csr, zoneId: 'lis-before' });
    const { zoneCa } = (await first.next((m) => m.message === 'welcome')).welcome!;
    // The same zone over mTLS (its leaf from that zone CA) on the other replica, while the first stream lives.
    const leafKey = await generateKeyPairAsync();
    const leaf = issueZoneLeaf({ caCertPem: zoneCa!.certificate, caKeyPem: key.keyPem, publicKeyPem: leafKey.publicKeyPem, trustDomain: TD, lifetimeMs: 3600_000 });
    const again = client(1, { rootsPem: zoneCa!.trustBundle, trustDomain: TD, clientCertificate: { certChainPem: leaf.certPem + zoneCa!.certificate, keyPem: leafKey.privateKeyPem } });
    again.open({ region: 'lis', joinToken: '', zoneId: 'lis-after' });
    assert.equal((await again.next((m) => m.message === 'welcome')).welcome!.replica, 'gc-2');
    const ended = await first.ended(10_000);
    assert.equal(ended.code, grpc.status.ABORTED, ended.details);
    assert.match(ended.details, /replaced by a newer one of the same zone CA: zone lis-after on replica gc-2/);
    const now = (await sessions()).find((s) => s.region === 'lis')!;
    assert.deepEqual([now.zoneId, now.replica, now.auth], ['lis-after', 'gc-2', 'mtls']);
    // A zone renews its zone CA for its own key only: another key is another zone.
    again.send({ renewZoneCa: { csr: (await testZoneCaKey('lis')).csr } });
    const renewal = await again.ended(10_000);
    assert.equal(renewal.code, grpc.status.PERMISSION_DENIED, renewal.details);
    assert.match(renewal.details, /^zone CA: the CSR is for key sha256:\w+, not for this zone's key sha256:\w+; a new key joins with a new join token$/);
    again.close();
    await waitFor('the lis session gone with its stream', async () => ((await sessions()).some((s) => s.region === 'lis') ? undefined : true));
  });

  it('a zone controller restarting rejoins over mTLS as the same zone', async () => {
    const before = (await sessions()).find((s) => s.region === 'fra')!;
    await fra.stop();
    fra.start();
    await fra.waitUp(true);
    const after = await waitFor('fra session again', async () => (await sessions()).find((s) => s.region === 'fra' && s.zoneId !== before.zoneId));
    assert.equal(after.identity, before.identity, 'the same zone CA key');
    assert.equal(after.auth, 'mtls');
  });

  it('an operator ends a session: the zone is cut off, cannot come back with its leaf, and the region joins again with a new token', async () => {
    const live = (await sessions()).find((s) => s.region === 'fra')!;
    assert.equal((await cp.api('DELETE', '/v1/zone-sessions/fra', undefined, READ_TOKEN)).status, 403);
    assert.equal((await cp.api('DELETE', '/v1/zone-sessions/sin')).status, 404);
    // Through the replica that does not serve the stream: the serving one sees the record go.
    const ended = await cp.api('DELETE', '/v1/zone-sessions/fra', undefined, undefined, cp.replicas[1]);
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.equal(ended.body.identity, live.identity);
    await waitFor('fra cut off', async () => ((await fra.health()).federated ? undefined : true), 15_000);
    const refused = await waitFor('fra refused on its way back', async () => {
      const e = (await zoneState(fra)).lastError;
      return e?.startsWith('PERMISSION_DENIED') ? e : undefined;
    }, 20_000);
    assert.match(refused, new RegExp(`zone CA ${live.identity} of region fra \\(zone ${live.zoneId}\\) was revoked by an operator at \\S+; rejoin with a new join token`));
    assert.equal((await sessions()).some((s) => s.region === 'fra'), false);
    assert.equal((await fra.health()).federated, false, 'still out');
    await fra.stop();

    const fresh = await zoneIn('fra-fresh', 'fra', await cp.token('fra'));
    fresh.start();
    await fresh.waitUp(true);
    const back = await waitFor('fra joined again', async () => (await sessions()).find((s) => s.region === 'fra'));
    assert.notEqual(back.identity, live.identity);
    assert.equal(back.auth, 'token');
  });
});
