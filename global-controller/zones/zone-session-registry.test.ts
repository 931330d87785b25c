import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { EtcdProcess } from '../../lib/process/etcd-process';
import { silentLogger } from '../../lib/observability/logger';
import { productionEtcdClient, waitFor } from '../store/store-test-support';
import { ZoneSessionRefused, ZoneSessionRegistry, type EndSession } from './zone-session-registry';
import type { ZoneSessionRecord } from './zone-session-claim';

const KEY_A = `sha256:${'a'.repeat(64)}`;
const KEY_B = `sha256:${'b'.repeat(64)}`;

function session(region: string, identity: string, replica: string): ZoneSessionRecord {
  return { region, sessionId: randomUUID(), zoneId: `${region}-${replica}`, replica, identity, auth: 'mtls', sinceMs: Date.now() };
}

// What a stream was told when it was ended.
function stream(): { end: EndSession; ended: { why: string; message: string }[] } {
  const ended: { why: string; message: string }[] = [];
  return { ended, end: (why, message) => ended.push({ why, message }) };
}

describe('zone session registry on etcd, across two replicas', () => {
  const etcd = new EtcdProcess();
  const clients: Etcd3[] = [];
  let gc1: ZoneSessionRegistry;
  let gc2: ZoneSessionRegistry;

  const registry = (replica: string) => {
    const client = productionEtcdClient(etcd.endpoint);
    clients.push(client);
    const r = new ZoneSessionRegistry(client, replica, silentLogger(), { leaseTtlSeconds: 5, timeoutMs: 1000, retryMs: 200 });
    r.start();
    return r;
  };

  before(async () => {
    await etcd.start();
    gc1 = registry('gc-1');
    gc2 = registry('gc-2');
  });
  after(async () => {
    await Promise.allSettled([gc1?.stop(), gc2?.stop()]);
    for (const c of clients) c.close();
    await etcd.destroy();
  });

  it('refuses another key while the region is held, on either replica, and frees the region when the stream closes', async () => {
    const a = session('fra', KEY_A, 'gc-1');
    const sa = stream();
    await gc1.claim(a, sa.end);
    for (const r of [gc1, gc2]) {
      await assert.rejects(r.claim(session('fra', KEY_B, 'gc-x'), () => undefined), (err: Error) => err instanceof ZoneSessionRefused && err.why === 'exists' && /zone fra-gc-1 on replica gc-1/.test(err.message));
    }
    assert.deepEqual((await gc2.list()).map((s) => s.zoneId), ['fra-gc-1']);
    gc1.release('fra', a.sessionId);
    await waitFor('the fra record gone', async () => ((await gc2.list()).length === 0 ? true : undefined));
    await gc2.claim(session('fra', KEY_B, 'gc-2'), () => undefined);
    assert.deepEqual(sa.ended, [], 'a stream that closed itself is not told to end');
  });

  it('the same key on another replica takes the region over, and the first replica ends its stream', async () => {
    const a = session('iad', KEY_A, 'gc-1');
    const sa = stream();
    await gc1.claim(a, sa.end);
    await gc2.claim(session('iad', KEY_A, 'gc-2'), () => undefined);
    await waitFor('the stream told to end', () => (sa.ended.length === 1 ? true : undefined));
    assert.equal(sa.ended[0]!.why, 'replaced');
    assert.match(sa.ended[0]!.message, /zone iad-gc-2 on replica gc-2/);
  });

  it('an operator ends a session through another replica: the serving one ends its stream, and the key is refused from then on', async () => {
    const a = session('sin', KEY_B, 'gc-1');
    const sa = stream();
    await gc1.claim(a, sa.end);
    const { revoked } = await gc2.end('sin');
    assert.equal(revoked.identity, KEY_B);
    await waitFor('the stream told to end', () => (sa.ended.length === 1 ? true : undefined));
    assert.equal(sa.ended[0]!.why, 'revoked');
    await assert.rejects(gc2.claim(session('lis', KEY_B, 'gc-2'), () => undefined), (err: Error) => err instanceof ZoneSessionRefused && err.why === 'revoked' && /revoked by an operator/.test(err.message));
  });

  it('keeps live sessions through an etcd outage, refuses claims meanwhile within its timeout, and writes its records again after', async () => {
    const a = session('syd', `sha256:${'c'.repeat(64)}`, 'gc-1');
    const sa = stream();
    await gc1.claim(a, sa.end);
    await etcd.stop();
    const t0 = Date.now();
    await assert.rejects(gc2.claim(session('gru', `sha256:${'d'.repeat(64)}`, 'gc-2'), () => undefined), (err: Error) => !(err instanceof ZoneSessionRefused));
    assert.ok(Date.now() - t0 < 10_000, 'a claim while etcd is away fails within its timeouts');
    // Past the lease's TTL: the lease is gone for this replica.
    await new Promise((r) => setTimeout(r, 6000));
    await etcd.start();
    const back = await waitFor('the syd record back', async () => (await gc2.list().catch(() => [])).find((s) => s.region === 'syd'), 20_000, 200);
    assert.equal(back.sessionId, a.sessionId);
    assert.deepEqual(sa.ended, [], 'the outage ended no stream');
  });
});
