import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrafficPermissionResource } from '../../lib/resources';
import { isProxyIdentity, isSourceIdentity, networkIdentity, TrafficPermissions } from './traffic-permissions';

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

  it('workloads: by certificate (service identity) or by network; open by default, decided by the permissions naming the service', () => {
    const open = new TrafficPermissions([], TD);
    assert.equal(open.allows(id('fra', 'service', 'web'), 'echo'), true);
    assert.equal(open.allows(networkIdentity(TD, 'fra'), 'echo'), true);
    const p = new TrafficPermissions([permission('echo-from-web', 'echo', [`spiffe://${TD}/region/*/service/web`])], TD);
    assert.equal(p.allows(id('iad', 'service', 'web'), 'echo'), true);
    assert.equal(p.allows(id('fra', 'service', 'admin'), 'echo'), false);
    assert.equal(p.allows(networkIdentity(TD, 'fra'), 'echo'), false, 'a network caller needs a permission that names network callers');
    const q = new TrafficPermissions([permission('echo-from-fra', 'echo', [`spiffe://${TD}/region/fra/network`])], TD);
    assert.equal(q.allows(networkIdentity(TD, 'fra'), 'echo'), true);
    assert.equal(q.allows(networkIdentity(TD, 'iad'), 'echo'), false);
  });

  it('only proxies vouch for a caller, and only for a workload or network identity of the trust domain', () => {
    assert.equal(isProxyIdentity(TD, id('fra', 'edge', 'edge-fra')), true);
    assert.equal(isProxyIdentity(TD, id('fra', 'ingress', 'i')), true);
    assert.equal(isProxyIdentity(TD, id('fra', 'service', 'web')), false);
    assert.equal(isProxyIdentity('other.example', id('fra', 'edge', 'edge-fra')), false);
    assert.equal(isSourceIdentity(TD, id('fra', 'service', 'web')), true);
    assert.equal(isSourceIdentity(TD, networkIdentity(TD, 'fra')), true);
    assert.equal(isSourceIdentity(TD, id('fra', 'edge', 'edge-fra')), false, 'a proxy identity cannot be claimed as a source');
    assert.equal(isSourceIdentity(TD, `spiffe://other.example/region/fra/service/web`), false);
    assert.equal(isSourceIdentity(TD, `${id('fra', 'service', 'web')}/x`), false);
  });
});
