import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrafficPermissionResource } from '../../lib/resources';
import { TrafficPermissions } from './traffic-permissions';

const TD = 'meridian.local';
const id = (region: string, role: string, name: string, td = TD) => `spiffe://${td}/region/${region}/${role}/${name}`;

function permission(name: string, service: string, identities: string[]): TrafficPermissionResource {
  return { apiVersion: 'meridian.dev/v1', kind: 'TrafficPermission', metadata: { name }, spec: { service, allow: identities.map((identity) => ({ identity })) } } as TrafficPermissionResource;
}

describe('TrafficPermissions', () => {
  it('without a permission naming the service: this mesh\'s edges and ingresses of any region, nothing else', () => {
    const p = new TrafficPermissions([], TD);
    assert.equal(p.allows(id('fra', 'edge', 'edge-fra'), 'echo'), true);
    assert.equal(p.allows(id('sin', 'ingress', 'ingress-sin'), 'echo'), true);
    assert.equal(p.allows(id('fra', 'zone', 'fra'), 'echo'), false, 'a zone controller is not a data-plane caller');
    assert.equal(p.allows(id('fra', 'edge', 'edge-fra', 'other.example'), 'echo'), false, 'another trust domain');
  });

  it('a permission naming the service decides for it alone: exact identities and "*" segments', () => {
    const p = new TrafficPermissions(
      [permission('echo-fra', 'echo', [id('fra', 'edge', 'edge-fra')]), permission('api-ingresses', 'api', [`spiffe://${TD}/region/*/ingress/*`])],
      TD,
    );
    assert.equal(p.allows(id('fra', 'edge', 'edge-fra'), 'echo'), true);
    assert.equal(p.allows(id('fra', 'edge', 'edge-fra-2'), 'echo'), false);
    assert.equal(p.allows(id('iad', 'edge', 'edge-iad'), 'echo'), false, 'the default no longer applies to echo');
    assert.equal(p.allows(id('iad', 'ingress', 'ingress-iad'), 'api'), true);
    assert.equal(p.allows(id('iad', 'edge', 'edge-iad'), 'api'), false);
    assert.equal(p.allows(id('iad', 'edge', 'edge-iad'), 'other'), true, 'a service no permission names keeps the default');
  });

  it('a permission for "*" applies to every service, together with the ones naming it', () => {
    const p = new TrafficPermissions([permission('all', '*', [`spiffe://${TD}/region/fra/*/*`]), permission('echo', 'echo', [id('sin', 'edge', 'edge-sin')])], TD);
    assert.equal(p.allows(id('fra', 'ingress', 'ingress-fra'), 'anything'), true);
    assert.equal(p.allows(id('iad', 'edge', 'edge-iad'), 'anything'), false);
    assert.equal(p.allows(id('sin', 'edge', 'edge-sin'), 'echo'), true);
    assert.equal(p.allows(id('fra', 'edge', 'edge-fra'), 'echo'), true);
    assert.equal(p.allows(id('sin', 'edge', 'edge-sin'), 'anything'), false);
  });
});
