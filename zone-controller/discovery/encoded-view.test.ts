import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoveryProto } from '../../lib/grpc/protos';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import { encodedViewParts, withEncodedWatch } from './encoded-view';
import { VIEW_PART_BYTES } from '../../lib/grpc/view-parts';

function bigView(services: number): View {
  return {
    version: 7,
    full: true,
    region: 'fra',
    resources: [],
    removedResources: [],
    instances: [],
    instanceServices: [],
    regions: ['iad', 'sin', 'syd'].map((name) => ({
      name,
      latitude: 1,
      longitude: 2,
      ingressAddress: '10.0.0.1:7600',
      reachable: true,
      rttMs: 80,
      services: Array.from({ length: services }, (_, i) => ({ service: `service-with-a-long-name-${i}`, healthy: 2, total: 2, load: 0 })),
      relayVia: '',
      relayIngressAddress: '',
      servicesPartial: false,
      removedServices: [],
    })),
    removedRegions: [],
  };
}

describe('encoded views', () => {
  const { service, serializeView } = withEncodedWatch(discoveryProto().meridian.discovery.v1.Discovery.service);
  const decode = service.Watch!.responseDeserialize as (b: Buffer) => View;
  const serialize = service.Watch!.responseSerialize as (v: View | Buffer) => Buffer;

  it('encodes a view once however many proxies write it, in parts under the message limit', () => {
    let encodings = 0;
    const counting = (v: View) => {
      encodings++;
      return serializeView(v);
    };
    const view = bigView(15_000);
    const first = encodedViewParts(view, counting);
    const second = encodedViewParts(view, counting);
    assert.equal(second, first, 'the second proxy gets the same bytes');
    assert.ok(first.length >= 2, `${first.length} parts`);
    assert.equal(encodings, first.length);
    for (const part of first) assert.ok(part.length < 4 * 1024 * 1024 && part.length <= 2 * VIEW_PART_BYTES, `part of ${part.length} bytes`);
    // The parts decode to the whole view: the first full, every region once.
    const decoded = first.map(decode);
    assert.equal(decoded[0]!.full, true);
    assert.deepEqual(decoded.flatMap((p) => p.regions!.map((r) => `${r.name}:${r.services!.length}`)), ['iad:15000', 'sin:15000', 'syd:15000']);
    assert.ok(decoded.every((p) => Number(p.version) === 7));
  });

  it("Watch's serializer passes bytes through and still encodes a view", () => {
    const view = bigView(3);
    const bytes = serializeView(view);
    assert.equal(serialize(bytes), bytes);
    assert.deepEqual(serialize(view), bytes);
    assert.equal(decode(bytes).regions![2]!.services![2]!.service, 'service-with-a-long-name-2');
  });
});
