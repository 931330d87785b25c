import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDocuments, type ServiceResource, type TrafficRouteResource } from '../../lib/resources';
import { doc, serviceDoc } from '../testing/upstream-server';
import { normalizeHost } from './host';
import { matchesPrefix, stripPrefix } from './path-prefix';
import { Router } from './router';
import { WeightedSplit } from './weighted-split';

function compile(docs: unknown[]): Router {
  const result = validateDocuments(docs);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const services = result.documents.filter((d): d is ServiceResource => d.kind === 'Service');
  const routes = result.documents.filter((d): d is TrafficRouteResource => d.kind === 'TrafficRoute');
  return new Router(services, routes);
}

const noHeaders = { headers: {} };

describe('router: host and path', () => {
  const router = compile([
    serviceDoc('web', { hosts: ['example.com'] }),
    serviceDoc('api', { hosts: ['example.com'], routes: [{ pathPrefix: '/api', stripPrefix: true }, { pathPrefix: '/api/v2/admin' }] }),
    serviceDoc('echo'),
  ]);

  it('routes <service>.mesh with or without a port, and spec.hosts', () => {
    assert.equal(router.route(normalizeHost('echo.mesh'), '/', 'GET', noHeaders)?.backend, 'echo');
    assert.equal(router.route(normalizeHost('Echo.Mesh:8080'), '/x', 'GET', noHeaders)?.backend, 'echo');
    assert.equal(router.route(normalizeHost('example.com.'), '/', 'GET', noHeaders)?.backend, 'web');
    assert.equal(router.route(normalizeHost('nope.example'), '/', 'GET', noHeaders), undefined);
    assert.equal(router.hasHost('nope.example'), false);
  });

  it('takes the longest path prefix across the services sharing a host', () => {
    assert.equal(router.route('example.com', '/api/users', 'GET', noHeaders)?.backend, 'api');
    assert.equal(router.route('example.com', '/api', 'GET', noHeaders)?.backend, 'api');
    assert.equal(router.route('example.com', '/apis', 'GET', noHeaders)?.backend, 'web', 'prefixes match whole segments');
    assert.equal(router.route('example.com', '/', 'GET', noHeaders)?.backend, 'web');
    const admin = router.route('example.com', '/api/v2/admin/x', 'GET', noHeaders);
    assert.equal(admin?.backend, 'api');
    assert.equal(admin?.url, '/api/v2/admin/x', 'the longer route does not strip');
  });

  it('strips the prefix of a route that says so, keeping the query', () => {
    assert.equal(router.route('example.com', '/api/users?id=1', 'GET', noHeaders)?.url, '/users?id=1');
    assert.equal(router.route('example.com', '/api', 'GET', noHeaders)?.url, '/');
    assert.equal(router.route('example.com', '/api?x=1', 'GET', noHeaders)?.url, '/?x=1');
  });

  it('has no route for a path no prefix matches', () => {
    const r = compile([serviceDoc('only', { routes: [{ pathPrefix: '/only' }] })]);
    assert.equal(r.route('only.mesh', '/other', 'GET', noHeaders), undefined);
    assert.equal(r.hasHost('only.mesh'), true);
  });
});

describe('router: TrafficRoute rules', () => {
  const router = compile([
    serviceDoc('echo'),
    serviceDoc('echo-v2'),
    serviceDoc('echo-admin'),
    doc('TrafficRoute', 'echo', {
      service: 'echo',
      rules: [
        { match: { headers: [{ name: 'X-Canary', exact: '1' }] }, split: [{ service: 'echo-v2', weight: 1 }] },
        { match: { headers: [{ name: 'x-user', regex: '^[0-9]+$' }, { name: 'x-tier', prefix: 'gold' }] }, split: [{ service: 'echo-v2', weight: 1 }] },
        { match: { pathPrefix: '/admin', methods: ['POST'] }, stripPrefix: true, split: [{ service: 'echo-admin', weight: 1 }] },
      ],
    }),
  ]);

  it('matches headers exactly, by prefix and by regex', () => {
    assert.equal(router.route('echo.mesh', '/', 'GET', { headers: { 'x-canary': '1' } })?.backend, 'echo-v2');
    assert.equal(router.route('echo.mesh', '/', 'GET', { headers: { 'x-canary': '2' } })?.backend, 'echo');
    assert.equal(router.route('echo.mesh', '/', 'GET', { headers: { 'x-user': '42', 'x-tier': 'gold-plus' } })?.backend, 'echo-v2');
    assert.equal(router.route('echo.mesh', '/', 'GET', { headers: { 'x-user': '42x', 'x-tier': 'gold' } })?.backend, 'echo');
    assert.equal(router.route('echo.mesh', '/', 'GET', { headers: { 'x-user': '42' } })?.backend, 'echo', 'every header must match');
  });

  it('matches methods and path prefixes and strips the rule prefix', () => {
    const r = router.route('echo.mesh', '/admin/users?all=1', 'POST', noHeaders);
    assert.equal(r?.backend, 'echo-admin');
    assert.equal(r?.service, 'echo');
    assert.equal(r?.url, '/users?all=1');
    assert.equal(router.route('echo.mesh', '/admin/users', 'GET', noHeaders)?.backend, 'echo');
  });

  it('reads the request headers only when a rule needs them', () => {
    const r = compile([serviceDoc('a'), doc('TrafficRoute', 'a', { service: 'a', rules: [{ match: { pathPrefix: '/x' }, split: [{ service: 'a', weight: 1 }] }] })]);
    const request = {
      get headers(): Record<string, string> {
        throw new Error('headers were read');
      },
    };
    assert.equal(r.route('a.mesh', '/x', 'GET', request)?.backend, 'a');
  });

  it('splits by weight', () => {
    const split = compile([
      serviceDoc('echo'),
      doc('TrafficRoute', 'canary', { service: 'echo', rules: [{ split: [{ service: 'echo-v2', weight: 10 }, { service: 'echo', weight: 90 }, { service: 'off', weight: 0 }] }] }),
    ]);
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const b = split.route('echo.mesh', '/', 'GET', noHeaders)!.backend;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    const share = (counts.get('echo-v2') ?? 0) / n;
    assert.ok(share > 0.08 && share < 0.12, `echo-v2 got ${share}`);
    assert.equal(counts.get('off'), undefined, 'weight 0 never picked');
  });
});

describe('router: pieces', () => {
  it('WeightedSplit picks by cumulative weight', () => {
    const s = new WeightedSplit([{ service: 'a', weight: 1 }, { service: 'b', weight: 3 }]);
    assert.equal(s.pick(0), 'a');
    assert.equal(s.pick(0.24), 'a');
    assert.equal(s.pick(0.26), 'b');
    assert.equal(s.pick(0.999), 'b');
  });

  it('prefix matching and stripping', () => {
    assert.ok(matchesPrefix('/a/b', '/a'));
    assert.ok(matchesPrefix('/a/', '/a/'));
    assert.ok(matchesPrefix('/anything', '/'));
    assert.ok(!matchesPrefix('/ab', '/a'));
    assert.equal(stripPrefix('/a/b', '/a'), '/b');
    assert.equal(stripPrefix('/a/b', '/a/'), '/b');
    assert.equal(stripPrefix('/x', '/'), '/x');
  });

  it('normalizes hosts', () => {
    assert.equal(normalizeHost('EXAMPLE.com:443'), 'example.com');
    assert.equal(normalizeHost('[::1]:8080'), '[::1]');
    assert.equal(normalizeHost('echo.mesh.'), 'echo.mesh');
  });
});
