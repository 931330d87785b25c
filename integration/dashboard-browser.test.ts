// The dashboard in a real browser (Debian's chromium, driven by
// playwright-core), drawing what the running demo cannot show: a region with
// no zone, tunnels up and down, a degraded service, a withdrawn edge, traffic
// figures, a zone falling silent, a refused token. Zones here are test
// clients of the federation stream; the demo's own dashboard test is in
// demo-observability.test.ts. Saves test-output/dashboard-sin-offline.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { ControlPlane, READ_TOKEN } from './harness/global-controller-process';
import { FakeZone } from './harness/fake-zone';
import { waitFor } from './harness/child-process';
import { Chromium } from './harness/chromium';
import { repoRoot } from '../test-support/repo-root';

const region = (name: string, latitude: number, longitude: number) => ({
  apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name }, spec: { location: { latitude, longitude } },
});
const instance = (id: string, port: number, healthy: boolean) => ({ id, service: 'echo', address: '127.0.0.1', port, weight: 1, healthy });

describe('dashboard in a browser: the states the demo does not reach', () => {
  const cp = new ControlPlane();
  const zones = { fra: new FakeZone('fra'), iad: new FakeZone('iad'), sin: new FakeZone('sin') };
  const outDir = path.join(repoRoot(), 'test-output');
  const browser = new Chromium();
  let page: Page;
  const now = Date.now();

  const reportFra = () =>
    zones.fra.report({
      ingressAddress: '127.0.0.1:7600',
      instances: [instance('fra-a', 9001, true), instance('fra-b', 9002, true)],
      peers: [
        { region: 'iad', lastHandshakeAtMs: now - 12_000, up: true, rttMs: 82 },
        { region: 'sin', lastHandshakeAtMs: now - 40_000, up: true, rttMs: 160 },
      ],
      edges: [
        { name: 'fra-edge-1', mode: 'edge', announcing: true, healthy: true, requestRate: 84.2, errorRate: 0.001, p99Ms: 41 },
        { name: 'fra-edge-2', mode: 'edge', announcing: true, healthy: true, requestRate: 79.9, errorRate: 0.003, p99Ms: 38 },
      ],
    });

  before(async () => {
    await cp.start(1);
    const applied = await cp.api('POST', '/v1/apply', [
      region('fra', 50.11, 8.68), region('iad', 38.95, -77.45), region('sin', 1.35, 103.99), region('syd', -33.87, 151.21),
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo' }, spec: {} },
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'api' }, spec: {} },
    ]);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    for (const z of Object.values(zones)) {
      await z.join(cp);
      z.heartbeat();
    }
    reportFra();
    zones.iad.report({
      instances: [instance('iad-a', 9011, true), instance('iad-b', 9012, false), { ...instance('iad-c', 9013, true), service: 'api' }],
      peers: [{ region: 'fra', lastHandshakeAtMs: now - 9000, up: true, rttMs: 81 }, { region: 'sin', lastHandshakeAtMs: now - 300_000, up: false, rttMs: 0 }],
      edges: [{ name: 'iad-edge-1', announcing: false, healthy: false }],
    });
    zones.sin.report({
      instances: [instance('sin-a', 9021, true), instance('sin-b', 9022, true)],
      peers: [{ region: 'fra', lastHandshakeAtMs: now - 15_000, up: true, rttMs: 158 }],
      edges: [{ name: 'sin-edge-1', announcing: true, healthy: true }],
    });
    await waitFor('three reports', async () => {
      const res = await cp.api('GET', '/v1/status', undefined, READ_TOKEN);
      return res.body.regions?.filter((r: { services: unknown[] }) => r.services.length > 0).length === 3 || undefined;
    });

    page = await browser.launch();
  });

  after(async () => {
    await browser.close();
    for (const z of Object.values(zones)) z.close();
    await cp.stop();
  });

  it('draws a region without a zone, tunnels, a degraded service, a withdrawn edge and traffic', async () => {
    await page.goto(`${cp.primary.url}/dashboard#token=${encodeURIComponent(READ_TOKEN)}`);
    await page.waitForSelector('[data-region="fra"]', { timeout: 5000 });
    await page.waitForSelector('#conn[data-conn="live"]', { timeout: 5000 });

    // One dot per region on the map, coloured by its zone.
    assert.equal(await page.locator('#map [data-region]').count(), 4);
    assert.equal(await page.getAttribute('#map [data-region="fra"]', 'data-online'), 'true');
    assert.equal(await page.getAttribute('#map [data-region="syd"]', 'data-online'), 'false');
    assert.equal(await page.locator('#map path.tunnel').count(), 3, 'fra-iad, fra-sin, iad-sin');
    assert.equal(await page.getAttribute('#map path.tunnel[data-tunnel="iad-sin"]', 'data-up'), 'false');
    assert.equal(await page.getAttribute('[data-region="fra"][data-service="echo"]', 'data-health'), 'healthy');
    assert.equal(await page.getAttribute('[data-region="iad"][data-service="echo"]', 'data-health'), 'degraded');
    assert.equal(await page.getAttribute('[data-edge="iad-edge-1"]', 'data-announcing'), 'false');
    assert.equal(await page.textContent('.traffic[data-region="fra"]'), '164req/s0.20%errors41 msp99');
    assert.equal(await page.getAttribute('.traffic[data-region="iad"]', 'data-traffic'), 'none');
    assert.deepEqual(browser.pageErrors, [], 'no script errors and no CSP violations');
  });

  it('shows a zone that falls silent as offline, and asks for a token when it is refused', async () => {
    zones.sin.silence();
    await page.waitForSelector('#map [data-region="sin"][data-online="false"]', { timeout: 8000 });
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'dashboard-sin-offline.png'), fullPage: true });

    await page.evaluate("localStorage.setItem('meridian.token', 'not-a-valid-token-at-all')");
    await page.reload();
    await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    assert.equal(await page.textContent('#login-error'), 'The token was refused.');
    assert.equal(await page.getAttribute('#conn', 'data-conn'), 'auth');
    await page.fill('#token-input', READ_TOKEN);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('#conn[data-conn="live"]', { timeout: 5000 });
    await page.waitForSelector('[data-region="fra"][data-service="echo"]', { timeout: 5000 });
  });
});
