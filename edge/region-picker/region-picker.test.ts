import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDocuments, type FailoverPolicyResource } from '../../lib/resources';
import { Endpoint } from '../balancer/endpoint';
import { DEFAULT_BREAKER_CONFIG } from '../resilience/circuit-breaker';
import { doc } from '../testing/upstream-server';
import { findFailoverOrder, orderRegions, type CandidateRegion } from './region-order';
import { Pick, pickRegion, type LocalEndpoints } from './region-picker';
import { RegionTarget } from './region-target';

const FRA = { latitude: 50.11, longitude: 8.68 };
const IAD = { latitude: 38.95, longitude: -77.45 };
const SIN = { latitude: 1.35, longitude: 103.99 };

const candidates = (localName: string): CandidateRegion[] =>
  [
    { name: 'fra', location: FRA },
    { name: 'iad', location: IAD },
    { name: 'sin', location: SIN },
  ].map((r) => ({ name: r.name, local: r.name === localName, rttMs: 0, location: r.location }));

function policies(specs: Record<string, unknown>[]): FailoverPolicyResource[] {
  const result = validateDocuments(specs.map((spec, i) => doc('FailoverPolicy', `p${i}`, spec)));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.documents as FailoverPolicyResource[];
}

describe('region order', () => {
  it('by distance from fra: fra, then iad, then sin', () => {
    assert.deepEqual(orderRegions(candidates('fra'), FRA, undefined).map((r) => r.name), ['fra', 'iad', 'sin']);
  });

  it('by distance from sin and iad', () => {
    // sin: fra (~10,260 km) is nearer than iad (~15,500 km).
    assert.deepEqual(orderRegions(candidates('sin'), SIN, undefined).map((r) => r.name), ['sin', 'fra', 'iad']);
    assert.deepEqual(orderRegions(candidates('iad'), IAD, undefined).map((r) => r.name), ['iad', 'fra', 'sin']);
  });

  it('a measured round-trip time beats distance', () => {
    const c = candidates('fra').map((r) => (r.name === 'sin' ? { ...r, rttMs: 20 } : r));
    assert.deepEqual(orderRegions(c, FRA, undefined).map((r) => r.name), ['fra', 'sin', 'iad']);
  });

  it('a FailoverPolicy for the service and the local region wins over "*" ones', () => {
    const p = policies([
      { service: '*', rules: [{ from: '*', regions: ['iad', 'fra', 'sin'] }] },
      { service: 'echo', rules: [{ from: '*', regions: ['sin', 'iad', 'fra'] }, { from: 'fra', regions: ['fra', 'sin', 'iad'] }] },
    ]);
    const order = findFailoverOrder(p, 'echo', 'fra');
    assert.deepEqual(order?.regions, ['fra', 'sin', 'iad']);
    assert.deepEqual(findFailoverOrder(p, 'echo', 'iad')?.regions, ['sin', 'iad', 'fra']);
    assert.deepEqual(findFailoverOrder(p, 'other', 'fra')?.regions, ['iad', 'fra', 'sin']);
    assert.deepEqual(orderRegions(candidates('fra'), FRA, order?.regions).map((r) => r.name), ['fra', 'sin', 'iad']);
  });

  it('a FailoverPolicy leaves out regions it does not list, and regions without instances are not candidates', () => {
    const c = candidates('fra').filter((r) => r.name !== 'sin');
    assert.deepEqual(orderRegions(c, FRA, ['sin', 'fra']).map((r) => r.name), ['fra']);
  });
});

class FakeLocal implements LocalEndpoints {
  constructor(public endpoint: Endpoint | null) {}
  pick(): Endpoint | null {
    return this.endpoint;
  }
}

function plan(names: string[], local = 'fra'): RegionTarget[] {
  return names.map((n, i) => {
    const t = new RegionTarget(n, n === local, { ...DEFAULT_BREAKER_CONFIG, consecutiveFailures: 2, openForMs: 1_000 });
    t.index = i;
    t.healthy = 2;
    return t;
  });
}

const endpoint = () => new Endpoint('127.0.0.1:1', 'i1', '127.0.0.1', 1, 1, null as never);

describe('region picker', () => {
  it('picks the local region and its instance first', () => {
    const p = plan(['fra', 'iad', 'sin']);
    const e = endpoint();
    const out = new Pick();
    assert.ok(pickRegion(p, new FakeLocal(e), 100, null, null, 0, out));
    assert.equal(out.target?.name, 'fra');
    assert.equal(out.endpoint, e);
  });

  it('goes to the next region when no local instance is left', () => {
    const p = plan(['fra', 'iad', 'sin']);
    const out = new Pick();
    assert.ok(pickRegion(p, new FakeLocal(null), 100, null, null, 0, out));
    assert.equal(out.target?.name, 'iad');
    assert.equal(out.endpoint, null);
  });

  it('skips regions this request already tried', () => {
    const p = plan(['fra', 'iad', 'sin']);
    const out = new Pick();
    assert.ok(pickRegion(p, new FakeLocal(null), 100, [p[1]], null, 0, out));
    assert.equal(out.target?.name, 'sin');
    assert.equal(pickRegion(p, new FakeLocal(null), 100, [p[1], p[2]], null, 0, out), false);
  });

  it('spills over the soft in-flight limit to the next region', () => {
    const p = plan(['fra', 'iad', 'sin']);
    const local = new FakeLocal(endpoint());
    const out = new Pick();
    p[0].inFlight = 10; // local load is this edge's in-flight count
    assert.ok(pickRegion(p, local, 10, null, null, 0, out));
    assert.equal(out.target?.name, 'iad');
    p[1].reportedLoad = 8; // remote load: reported plus this edge's in-flight
    p[1].inFlight = 2;
    assert.ok(pickRegion(p, local, 10, null, null, 0, out));
    assert.equal(out.target?.name, 'sin');
    p[2].reportedLoad = 50;
    assert.ok(pickRegion(p, local, 10, null, null, 0, out));
    assert.equal(out.target?.name, 'fra', 'every region over its limit: the first one still takes it');
  });

  it('skips a region whose circuit is open, and probes it once it is half-open', () => {
    const p = plan(['fra', 'iad', 'sin']);
    const out = new Pick();
    const local = new FakeLocal(null);
    p[1].breaker.onFailure(0);
    assert.ok(p[1].breaker.onFailure(0), 'second failure opens the circuit');
    assert.ok(pickRegion(p, local, 100, null, null, 10, out));
    assert.equal(out.target?.name, 'sin');
    // openFor (1s) later, one probe goes to iad; the next request does not.
    assert.ok(pickRegion(p, local, 100, null, null, 1_100, out));
    assert.equal(out.target?.name, 'iad');
    assert.ok(pickRegion(p, local, 100, null, null, 1_101, out));
    assert.equal(out.target?.name, 'sin');
    p[1].breaker.onSuccess();
    assert.ok(pickRegion(p, local, 100, null, null, 1_102, out));
    assert.equal(out.target?.name, 'iad');
  });

  it('treats maxRequests in flight as an open circuit', () => {
    const p = plan(['fra', 'iad']);
    p[0].breaker.config = { ...p[0].breaker.config, maxRequests: 3 };
    p[0].inFlight = 3;
    const out = new Pick();
    assert.ok(pickRegion(p, new FakeLocal(endpoint()), 100, null, null, 0, out));
    assert.equal(out.target?.name, 'iad');
  });
});
