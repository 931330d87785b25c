// A full view from a zone that restarted without its Certificates' keys
// (they are never on its disk) names them in kept_resources: the edge keeps
// serving the copies it holds rather than dropping them.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createSelfSignedCertificate } from '../../lib/pki';
import type { View__Output } from '../../proto/generated/meridian/discovery/v1/View';
import { discoveryProto } from '../../lib/grpc/protos';
import type { View } from '../../proto/generated/meridian/discovery/v1/View';
import { applyViewMessage } from './apply-view-message';
import { ViewState } from './view-state';

function view(extra: Partial<View__Output>): View__Output {
  return { version: 1, full: false, region: 'fra', resources: [], removedResources: [], instances: [], instanceServices: [], regions: [], removedRegions: [], keptResources: [], more: false, ...extra };
}

describe('applyViewMessage kept resources', () => {
  let certificate: View__Output['resources'][number];
  before(async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'api.example.com', dnsNames: ['api.example.com'] });
    const doc = { apiVersion: 'meridian.dev/v1', kind: 'Certificate', metadata: { name: 'api' }, spec: { hosts: ['api.example.com'], certificate: certPem, privateKey: keyPem } };
    certificate = { kind: 'Certificate', name: 'api', document: Buffer.from(JSON.stringify(doc)), modRevision: 3 } as View__Output['resources'][number];
  });

  it('a full view keeps a held Certificate it names in kept_resources, and drops one it does not name', () => {
    const state = new ViewState('fra', 'discovery');
    assert.deepEqual(applyViewMessage(state, view({ full: true, resources: [certificate] })).rejected, []);
    assert.ok(state.snapshot().certificates.get('api'));

    applyViewMessage(state, view({ full: true, version: 2, keptResources: ['Certificate/api'] }));
    assert.match(state.snapshot().certificates.get('api')!.spec.privateKey, /PRIVATE KEY/, 'still served with its key');

    applyViewMessage(state, view({ full: true, version: 3 }));
    assert.equal(state.snapshot().certificates.get('api'), undefined, 'a full view without it removes it');
  });

  it('naming a Certificate the edge never had adds nothing', () => {
    const state = new ViewState('fra', 'discovery');
    applyViewMessage(state, view({ full: true, keptResources: ['Certificate/api', 'Service/echo'] }));
    assert.equal(state.snapshot().certificates.size, 0);
  });
});

describe('applyViewMessage instances\' other ports', () => {
  // Through the Watch method's own encoding, as the stream hands it over.
  const watch = discoveryProto().meridian.discovery.v1.Discovery.service.Watch!;
  const onTheWire = (v: View): View__Output => watch.responseDeserialize(watch.responseSerialize(v)) as View__Output;
  const instance = (id: string, ports?: Record<string, number>) => ({ id, service: 'echo', address: '10.0.1.1', port: 9001, weight: 1, labels: {}, healthy: true, ...(ports ? { ports } : {}) });

  it('fill LocalInstance.ports; an instance that names none has no ports', () => {
    const state = new ViewState('fra', 'discovery');
    applyViewMessage(state, onTheWire({ version: 1, full: true, region: 'fra', instanceServices: ['echo'], instances: [instance('a', { admin: 9101, grpc: 9201 }), instance('b')] }));
    const [a, b] = state.snapshot().instances.get('echo')!;
    assert.deepEqual(a!.ports, { admin: 9101, grpc: 9201 });
    assert.equal(b!.ports, undefined);
  });

  it('leave out a port no instance can have (0, or above 65535)', () => {
    const state = new ViewState('fra', 'discovery');
    applyViewMessage(state, onTheWire({ version: 1, full: true, region: 'fra', instanceServices: ['echo'], instances: [instance('a', { admin: 0, big: 70000, grpc: 9201 }), instance('b', { admin: 0 })] }));
    const [a, b] = state.snapshot().instances.get('echo')!;
    assert.deepEqual(a!.ports, { grpc: 9201 });
    assert.equal(b!.ports, undefined);
  });
});
