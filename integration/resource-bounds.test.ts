// Documents past a bound, applied through the admin API of a real global
// controller on real etcd: refused whole with the field and the bound named,
// nothing stored, and the controller keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from './harness/global-controller-process';

const GOOD = `
apiVersion: meridian.dev/v1
kind: Service
metadata: {name: echo}
spec:
  healthCheck: {interval: 1s, timeout: 500ms}
  limits: {requestTimeout: 30s}
---
apiVersion: meridian.dev/v1
kind: ResiliencePolicy
metadata: {name: echo}
spec:
  service: echo
  timeouts: {request: 30s}
`;

// A timeout past what a Node timer holds: every request would time out at once.
const HOURS_600 = `
apiVersion: meridian.dev/v1
kind: Service
metadata: {name: echo}
spec:
  limits: {requestTimeout: 600h}
---
apiVersion: meridian.dev/v1
kind: ResiliencePolicy
metadata: {name: echo}
spec:
  service: echo
  timeouts: {request: 600h}
`;

// A health check with no pause between checks: the zones would spin.
const INTERVAL_0 = `
apiVersion: meridian.dev/v1
kind: Service
metadata: {name: echo}
spec:
  healthCheck: {interval: 0ms, timeout: 500ms}
`;

interface Detail {
  index: number;
  kind: string;
  path: string;
  message: string;
}

describe('resource bounds through the admin API', () => {
  const cp = new ControlPlane();
  let stored: { service: unknown; policy: unknown };

  const current = async () => ({
    service: (await cp.api('GET', '/v1/resources/services/echo')).body,
    policy: (await cp.api('GET', '/v1/resources/resiliencepolicies/echo')).body,
  });

  before(async () => {
    await cp.start(1);
    const applied = await cp.api('POST', '/v1/apply', GOOD);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    stored = await current();
  });
  after(() => cp.stop());

  it('refuses a 600h request timeout on a Service and its ResiliencePolicy, naming both fields; nothing is stored', async () => {
    const res = await cp.api('POST', '/v1/apply', HOURS_600);
    assert.equal(res.status, 400);
    assert.match(res.body.error, /document 0 \(Service\/echo\): spec\.limits\.requestTimeout: must be at most 24h, got 600h/);
    assert.deepEqual(
      (res.body.details as Detail[]).map((d) => [d.index, d.kind, d.path, d.message]),
      [
        [0, 'Service', 'spec.limits.requestTimeout', 'must be at most 24h, got 600h'],
        [1, 'ResiliencePolicy', 'spec.timeouts.request', 'must be at most 24h, got 600h'],
      ],
    );
    assert.deepEqual(await current(), stored, 'the previous versions are still in force');
  });

  it('refuses a 0ms health check interval, naming the field; nothing is stored', async () => {
    const res = await cp.api('POST', '/v1/apply', INTERVAL_0);
    assert.equal(res.status, 400);
    assert.match(res.body.error, /document 0 \(Service\/echo\): spec\.healthCheck\.interval: must be at least 100ms, got 0ms/);
    assert.deepEqual((res.body.details as Detail[]).map((d) => d.path), ['spec.healthCheck.interval']);
    assert.deepEqual(await current(), stored, 'the previous version is still in force');
  });

  it('keeps serving: healthy, and a document within the bounds is applied', async () => {
    assert.equal((await cp.primary.health()).ok, true);
    const res = await cp.api('POST', '/v1/apply', GOOD.replace('requestTimeout: 30s', 'requestTimeout: 24h'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const service = (await cp.api('GET', '/v1/resources/services/echo')).body;
    assert.equal(service.spec.limits.requestTimeout, '24h');
  });
});
