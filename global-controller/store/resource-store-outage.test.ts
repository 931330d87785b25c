// The store when etcd goes away and comes back, without a restart of the
// store: reads answer from the warm cache, writes fail at the call deadline
// instead of hanging (the times are printed), watches resume from their last
// revision, and history compacted meanwhile is made good by a
// re-list. Nothing may end up as an unhandled error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { EtcdProcess } from '../../lib/process/etcd-process';
import { StoreUnavailableError } from './errors';
import type { ChangeBatch, ChangeEvent, ResourceStore } from './resource-store';
import { CuttableProxy, delay, doc, newStore, productionEtcdClient, trackProcessFailures, uniquePrefix, waitFor } from './store-test-support';

const summary = (c: ChangeEvent): string => `${c.op} ${c.kind}/${c.name}`;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result?: T; error?: unknown }> {
  const started = Date.now();
  try {
    return { ms: Date.now() - started, result: await fn() };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('ResourceStore when etcd stops and restarts', () => {
  const etcd = new EtcdProcess();
  let client: Etcd3;
  let store: ResourceStore;
  const processFailures = trackProcessFailures();

  before(async () => {
    await etcd.start();
    client = productionEtcdClient(etcd.endpoint);
    store = newStore(client, uniquePrefix());
    await store.ready(5000);
  });

  after(async () => {
    await store?.stop();
    client?.close();
    await etcd.destroy();
    processFailures.remove();
  });

  it('answers reads from the cache, fails writes fast, and resumes when etcd is back', async () => {
    const before = await store.apply([doc('Service', 'echo'), doc('Region', 'fra')]);
    const batches: ChangeBatch[] = [];
    store.on('changes', (b: ChangeBatch) => batches.push(b));
    const subscribed: ChangeBatch[] = [];
    let compacted = 0;
    const sub = store.watchFrom(before.revision, (b) => subscribed.push(b), () => compacted++);
    await delay(100);

    await etcd.stop();
    assert.equal((await store.get('Service', 'echo'))?.modRevision, before.revision, 'read from the warm cache');
    assert.deepEqual((await store.list()).map((r) => r.name), ['fra', 'echo']);
    assert.equal(store.snapshot().revision, before.revision);

    const writes: (() => Promise<unknown>)[] = [
      () => store.apply([doc('Service', 'during')]),
      () => store.create(doc('Service', 'during')),
      () => store.update(doc('Service', 'echo', { v: 2 }), before.revision),
      () => store.delete('Service', 'echo'),
    ];
    const failMs: number[] = [];
    for (const write of writes) {
      const { ms, error } = await timed(write);
      assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
      assert.match(error.message, /etcd is unavailable/);
      failMs.push(ms);
    }
    console.log(`# writes refused in ${failMs.join(', ')} ms while etcd was down`);
    // Long enough for the watches to go through several reconnect attempts.
    await delay(1500);

    await etcd.start();
    const restartedAt = Date.now();
    const written = await waitFor('writes to succeed again', async () => {
      try {
        return await store.apply([doc('Service', 'after', { back: true })]);
      } catch (err) {
        if (err instanceof StoreUnavailableError) return undefined;
        throw err;
      }
    }, 15_000, 200);
    console.log(`# writes succeeded again ${Date.now() - restartedAt} ms after etcd was back`);
    assert.deepEqual(written.results.map((r) => r.action), ['created']);
    // apply waits for the cache: the write is visible at once.
    assert.equal((await store.get('Service', 'after'))?.modRevision, written.revision);
    assert.equal(store.revision, written.revision);

    await waitFor('the subscriber to get the change', () => subscribed.length > 0);
    assert.deepEqual(subscribed.flatMap((b) => b.changes).map(summary), ['put Service/after']);
    assert.deepEqual(batches.flatMap((b) => b.changes).map(summary), ['put Service/after']);
    assert.equal(compacted, 0);
    await sub.close();
    assert.deepEqual(processFailures.failures, []);
  });

  it('when history was compacted while cut off, the cache lists again and emits the differences', async () => {
    const proxy = new CuttableProxy(etcd.clientPort);
    await proxy.start();
    const prefix = uniquePrefix();
    const proxiedClient = productionEtcdClient(proxy.endpoint);
    const cutOff = newStore(proxiedClient, prefix);
    const direct = newStore(client, prefix);
    try {
      await Promise.all([cutOff.ready(5000), direct.ready(5000)]);
      const base = await direct.apply([doc('Service', 'keep'), doc('Service', 'change'), doc('Service', 'remove')]);
      await waitFor('the cut-off store to see the base', () => cutOff.revision >= base.revision);
      const batches: ChangeBatch[] = [];
      cutOff.on('changes', (b: ChangeBatch) => batches.push(b));
      let compacted = 0;
      const sub = cutOff.watchFrom(base.revision, () => undefined, () => compacted++);
      await delay(100);

      proxy.cut();
      const changed = await direct.apply([doc('Service', 'change', { v: 2 }), doc('Service', 'new')]);
      await direct.delete('Service', 'remove');
      const latest = (await direct.apply([doc('Service', 'new', { v: 2 })])).revision;
      await client.kv.compact({ revision: latest, physical: true });
      assert.equal((await cutOff.get('Service', 'remove'))?.name, 'remove', 'still the old view while cut off');
      await assert.rejects(cutOff.create(doc('Service', 'x')), StoreUnavailableError);

      proxy.restore();
      await waitFor('the cut-off store to catch up', () => cutOff.revision >= latest, 15_000);
      assert.deepEqual((await cutOff.list()).map((r) => `${r.name}@${r.modRevision}`), [`change@${changed.revision}`, 'keep@' + base.revision, `new@${latest}`]);
      assert.equal(batches.length, 1, 'one batch with the differences');
      assert.equal(batches[0].revision, cutOff.revision);
      assert.deepEqual(batches[0].changes.map(summary).sort(), ['delete Service/remove', 'put Service/change', 'put Service/new']);
      assert.deepEqual(batches[0].changes.find((c) => c.name === 'new')?.document?.spec, { v: 2 });
      await waitFor('the subscriber to learn its history is gone', () => compacted === 1, 15_000);
      await sub.close();
    } finally {
      await Promise.all([cutOff.stop(), direct.stop()]);
      proxiedClient.close();
      await proxy.close();
    }
    assert.deepEqual(processFailures.failures, []);
  });

  it('fails writes within the call deadline when etcd stops answering (partition), and recovers', async () => {
    const proxy = new CuttableProxy(etcd.clientPort);
    await proxy.start();
    const proxiedClient = productionEtcdClient(proxy.endpoint);
    const partitioned = newStore(proxiedClient, uniquePrefix(), { callTimeoutMs: 500 });
    try {
      await partitioned.ready(5000);
      const created = await partitioned.create(doc('Service', 'echo'));

      proxy.stall();
      const { ms, error } = await timed(() => partitioned.apply([doc('Service', 'echo', { v: 2 })]));
      console.log(`# write refused in ${ms} ms while etcd did not answer (callTimeoutMs 500)`);
      assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
      assert.equal((await partitioned.get('Service', 'echo'))?.modRevision, created.modRevision, 'reads answer from the cache');

      proxy.restore();
      const written = await waitFor('writes to succeed again', async () => {
        try {
          return await partitioned.apply([doc('Service', 'echo', { v: 2 })]);
        } catch (err) {
          if (err instanceof StoreUnavailableError) return undefined;
          throw err;
        }
      }, 15_000, 200);
      assert.equal((await partitioned.get('Service', 'echo'))?.modRevision, written.revision, 'the cache caught up');
    } finally {
      await partitioned.stop();
      proxiedClient.close();
      await proxy.close();
    }
    assert.deepEqual(processFailures.failures, []);
  });

  it('starts while etcd is unreachable and warms up once it is reachable', async () => {
    const proxy = new CuttableProxy(etcd.clientPort);
    await proxy.start();
    proxy.cut();
    const prefix = uniquePrefix();
    const proxiedClient = productionEtcdClient(proxy.endpoint);
    const late = newStore(proxiedClient, prefix, { callTimeoutMs: 1000 });
    try {
      await assert.rejects(late.ready(300), StoreUnavailableError);
      const { ms, error } = await timed(() => late.get('Service', 'echo'));
      assert.ok(error instanceof StoreUnavailableError);
      console.log(`# read refused in ${ms} ms while etcd was unreachable (callTimeoutMs 1000)`);
      assert.throws(() => late.snapshot(), StoreUnavailableError);
      await client.put(`${prefix}Service/echo`).value(JSON.stringify(doc('Service', 'echo')));

      proxy.restore();
      await late.ready(15_000);
      assert.equal((await late.get('Service', 'echo'))?.name, 'echo');
    } finally {
      await late.stop();
      proxiedClient.close();
      await proxy.close();
    }
    assert.deepEqual(processFailures.failures, []);
  });
});
