// The dashboard in a real browser (Debian's chromium, driven by
// playwright-core): it connects with the token from the link, draws the
// regions, and follows a zone's report without a reload. Saves a screenshot
// to test-output/dashboard.png. Skipped when chromium is not installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ControlPlane, READ_TOKEN } from './harness/global-controller-process';
import { FakeZone } from './harness/fake-zone';
import { waitFor } from './harness/child-process';
import { repoRoot } from './harness/repo-root';

const CHROMIUM = '/usr/bin/chromium';
// Playwright adds --headless itself and sets --user-data-dir from launchPersistentContext.
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const region = (name: string, latitude: number, longitude: number) => ({
  apiVersion: 'meridian.dev/v1', kind: 'Region', metadata: { name }, spec: { location: { latitude, longitude } },
});
const instance = (id: string, port: number, healthy: boolean) => ({ id, service: 'echo', address: '127.0.0.1', port, weight: 1, healthy });

describe('dashboard in a browser', { skip: fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  const cp = new ControlPlane();
  const zones = { fra: new FakeZone('fra'), iad: new FakeZone('iad'), sin: new FakeZone('sin') };
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-chromium-'));
  const outDir = path.join(repoRoot(), 'test-output');
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const now = Date.now();

  const reportFra = (healthy: boolean) =>
    zones.fra.report({
      ingressAddress: '127.0.0.1:7600',
      instances: [instance('fra-a', 9001, healthy), instance('fra-b', 9002, healthy)],
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
    reportFra(true);
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

    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });

  after(async () => {
    await context?.close();
    for (const z of Object.values(zones)) z.close();
    await cp.stop();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it('shows the regions from the feed and follows a report change without reloading', async () => {
    await page.goto(`${cp.primary.url}/dashboard#token=${encodeURIComponent(READ_TOKEN)}`);
    await page.waitForSelector('[data-region="fra"]', { timeout: 5000 });
    await page.waitForSelector('#conn[data-conn="live"]', { timeout: 5000 });
    assert.equal(await page.evaluate('location.hash'), '', 'the token leaves the address bar');
    assert.equal(await page.evaluate("localStorage.getItem('meridian.token')"), READ_TOKEN);

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

    // The page has no DOM types here (lib is ES2022): expressions go as strings.
    await page.evaluate('window.notReloaded = true');
    const sent = Date.now();
    reportFra(false);
    await page.waitForSelector('[data-region="fra"][data-service="echo"][data-health="unhealthy"]', { timeout: 3000 });
    console.log(`# report -> browser shows it: ${Date.now() - sent} ms`);
    assert.equal(await page.evaluate('window.notReloaded'), true, 'no reload');

    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'dashboard.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no script errors and no CSP violations');
  });

  it('shows a zone that falls silent as offline, and asks for a token when it is refused', async () => {
    zones.sin.silence();
    await page.waitForSelector('#map [data-region="sin"][data-online="false"]', { timeout: 8000 });
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
