// A view larger than a gRPC message, as a zone at its registry caps sends it:
// split by lib/grpc/view-parts into parts under the 4 MiB default limit, one
// service's instances across several parts, and taken by the proxy as one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { discoveryProto } from '../../lib/grpc/protos';
import { viewParts } from '../../lib/grpc/view-parts';
import { silentLogger } from '../../lib/observability/logger';
import type { View, View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import { FakeDiscovery } from '../testing/fake-discovery';
import { applyViewMessage } from './apply-view-message';
import { DiscoverySource } from './discovery-source';
import type { EdgeView } from './edge-view';
import { MAX_VIEW_PARTS, ViewPartsAssembler } from './view-parts-assembler';
import { ViewState } from './view-state';

const GRPC_DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

// 32 labels of 4 KB together (the default caps) on each instance.
function labels(i: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`label-${k}`, `${i}-`.padEnd(120, 'x')]));
}

function bigView(version: number, counts: Record<string, number>, full = true): View {
  const instances = Object.entries(counts).flatMap(([service, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `${service}-${i}`, service, address: '10.0.0.1', port: 1 + i, weight: 1, labels: labels(i), healthy: true })),
  );
  return { version, full, region: 'fra', resources: [], removedResources: [], instances, instanceServices: Object.keys(counts), regions: [], removedRegions: [] };
}

describe('views in parts', () => {
  const service = discoveryProto().meridian.discovery.v1.Discovery.service.Watch!;
  const encode = service.responseSerialize as (v: View) => Buffer;
  const decode = service.responseDeserialize as (b: Buffer) => View__Output;

  it('a service of 1,000 instances at the label caps goes in parts under the limit, and comes back whole', () => {
    const view = bigView(9, { echo: 1000, api: 3 });
    assert.ok(encode(view).length > GRPC_DEFAULT_MAX_MESSAGE, `the whole view is ${encode(view).length} bytes`);
    const parts = viewParts(view).map(encode);
    assert.ok(parts.length >= 4, `${parts.length} parts`);
    for (const p of parts) assert.ok(p.length < GRPC_DEFAULT_MAX_MESSAGE, `a part of ${p.length} bytes`);
    const decoded = parts.map(decode);
    assert.deepEqual(decoded.map((p) => p.more), [...parts.slice(1).map(() => true), false]);
    assert.ok(decoded.filter((p) => p.instanceServices.includes('echo')).length >= 4, 'echo spans parts');

    const assembler = new ViewPartsAssembler();
    for (const p of decoded.slice(0, -1)) assert.equal(assembler.add(p), undefined);
    const whole = assembler.add(decoded[decoded.length - 1]!)!;
    assert.equal(assembler.pending, 0);
    assert.equal(whole.full, true);
    assert.deepEqual(whole.instanceServices, ['echo', 'api']);
    const state = new ViewState('fra', 'discovery');
    applyViewMessage(state, whole);
    const snapshot = state.snapshot();
    assert.equal(snapshot.instances.get('echo')!.length, 1000);
    assert.equal(snapshot.instances.get('api')!.length, 3);
    assert.deepEqual(snapshot.instances.get('echo')![999]!.labels, labels(999));
  });

  it('a message without `more` is a view by itself; a zone sending endless parts is stopped', () => {
    const assembler = new ViewPartsAssembler();
    const one = decode(encode(bigView(1, { api: 1 })));
    assert.equal(assembler.add(one), one);
    const part = { ...one, more: true };
    for (let i = 0; i < MAX_VIEW_PARTS; i++) assembler.add(part);
    assert.throws(() => assembler.add(part), /more than 4096 parts/);
    assert.equal(assembler.pending, 0);
  });

  describe('over a discovery stream with gRPC default limits', () => {
    const fake = new FakeDiscovery();
    let source: DiscoverySource;
    const views: EdgeView[] = [];

    before(async () => {
      fake.initial = bigView(1, { api: 1 });
      await fake.start();
      source = new DiscoverySource({ address: fake.address, region: 'fra', proxy: 'edge-1', mode: 'edge', minBackoffMs: 20, maxBackoffMs: 100 }, silentLogger());
      await source.start((v) => views.push(v));
      assert.equal(await source.waitForFirstView(20_000), true);
    });

    after(async () => {
      await source.stop();
      await fake.stop();
    });

    it('applies a view of more than 4 MiB once, when its last part has come, never half of it', async () => {
      const parts = viewParts(bigView(2, { echo: 1000 }));
      assert.ok(parts.length >= 4);
      for (const p of parts) fake.send(p);
      const deadline = Date.now() + 60_000;
      while (views.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(views.length, 2, 'one view for the initial message, one for all the parts');
      assert.equal(views[1]!.version, 2);
      assert.equal(views[1]!.instances.get('echo')!.length, 1000);
      assert.equal(views[1]!.instances.has('api'), false, 'a full view replaces the one before');
      assert.equal(source.status().messages, 1 + parts.length);
      assert.equal(source.status().connected, true);
    });
  });
});
