// The running demo (`meridian demo`, real processes) as an operator watches
// it: `meridian status` against the API, every part's /metrics, the Grafana
// dashboard's queries, the dashboard in Debian's chromium while a region loses
// its echo instances, and one request's trace through edge, ingress and
// instance. One demo for the whole file; the tests run in order and the
// later ones rely on fra having lost its instances in the browser test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DemoEndpoints } from '../cli/demo/demo-runner';
import { runCli } from '../cli/testing/run-cli';
import { SHARED_LABEL_NAMES } from '../lib/observability/metrics';
import { isValidTraceparent, parentIdOf, traceIdOf } from '../lib/tracing/traceparent';
import { Chromium } from './harness/chromium';
import { waitFor } from './harness/child-process';
import { DemoProcess } from './harness/demo-process';
import { httpGet } from './harness/http-get';
import { findSample, familyTypes, readSamples } from '../test-support/metric-samples';
import { assertPromtoolAccepts } from '../test-support/promtool';
import { repoRoot } from '../test-support/repo-root';

// Apart from the other demo tests (1000, 2300), the soak bench (4700) and the
// ports lib/process/free-port hands out (20000-32000): they may run at once.
const PORT_OFFSET = 3400;
const OUT_DIR = path.join(repoRoot(), 'test-output');

interface StatusFacts {
  regions: { name: string; online: boolean; latitude: number | null; longitude: number | null; services: unknown[]; edges: unknown[] }[];
  services: unknown[];
}

// What must agree between two readings of the status: not the clock.
function facts(status: { regions: StatusFacts['regions']; services: unknown[] }): StatusFacts {
  return {
    regions: status.regions.map(({ name, online, latitude, longitude, services, edges }) => ({ name, online, latitude, longitude, services, edges })),
    services: status.services,
  };
}

describe('the demo, observed', () => {
  const demo = new DemoProcess(PORT_OFFSET);
  const browser = new Chromium();
  let e: DemoEndpoints;
  let auth: Record<string, string>;
  // The metric families each part exports, read by the first /metrics test.
  const families = new Map<string, Set<string>>();

  const api = async <T>(pathname: string): Promise<T> => {
    const res = await fetch(`${e.admin.url}${pathname}`, { headers: auth });
    assert.equal(res.status, 200, pathname);
    return (await res.json()) as T;
  };
  // Every part's metrics endpoint, and the part and zone labels it must carry.
  const metricsEndpoints = (): Record<string, { url: string; part: string; zone?: string }> => {
    const out: Record<string, { url: string; part: string; zone?: string }> = { 'global-controller': { url: `${e.admin.url}/metrics`, part: 'global-controller' } };
    for (const [zone, r] of Object.entries(e.regions)) {
      out[`zone-${zone}`] = { url: `${r.zoneController}/metrics`, part: 'zone-controller', zone };
      out[`edge-${zone}`] = { url: `http://${r.edge!.admin}/metrics`, part: 'edge', zone };
      out[`ingress-${zone}`] = { url: `http://${r.ingress!.admin}/metrics`, part: 'ingress', zone };
    }
    return out;
  };

  before(async () => {
    e = await demo.start();
    auth = { authorization: `Bearer ${e.admin.readToken}` };
    await browser.launch();
  });
  after(async () => {
    await browser.close();
    await demo.stop();
  });

  it('meridian status -o json shows what GET /v1/status, GET /v1/regions and each zone controller say', async () => {
    const cliEnv = { MERIDIAN_SERVER: e.admin.url, MERIDIAN_TOKEN: e.admin.readToken };
    const run = await runCli(['status', '-o', 'json'], { env: cliEnv });
    assert.equal(run.code, 0, run.stderr);
    const fromCli = JSON.parse(run.stdout);
    const fromApi = await api<StatusFacts & { regions: { name: string }[] }>('/v1/status');
    assert.deepEqual(facts(fromCli), facts(fromApi));

    assert.deepEqual(fromCli.regions.map((r: { name: string }) => r.name), ['fra', 'iad', 'sin']);
    const regions = (await api<{ regions: { region: string; online: boolean; services: unknown[]; edges: { name: string; mode: string; announcing: boolean; healthy: boolean }[] }[] }>('/v1/regions')).regions;
    for (const r of fromCli.regions as { name: string; online: boolean; services: { service: string; healthy: number; total: number }[]; edges: unknown[] }[]) {
      const zone = regions.find((x) => x.region === r.name)!;
      assert.equal(r.online, zone.online, r.name);
      assert.equal(r.online, true, `${r.name} online`);
      assert.deepEqual(r.services, zone.services, r.name);
      assert.deepEqual(r.edges, zone.edges.filter((x) => x.mode === 'edge').map(({ name, announcing, healthy }) => ({ name, announcing, healthy })), r.name);
      // The ground truth: the zone controller's own registry.
      const registered = (await (await fetch(`${e.regions[r.name]!.zoneController}/v1/instances`)).json()) as { instances: { service: string; healthy: boolean }[] };
      const services = [...new Set(registered.instances.map((i) => i.service))].sort();
      const counts = services.map((service) => {
        const of = registered.instances.filter((i) => i.service === service);
        return { service, healthy: of.filter((i) => i.healthy).length, total: of.length };
      });
      assert.deepEqual(r.services, counts, r.name);
      assert.ok(services.includes('echo'), r.name);
      assert.deepEqual(fromCli.services[0].regions[r.name], { healthy: 2, total: 2 }, r.name);
    }

    // The text form says the same, without colour when stdout is not a terminal.
    const text = await runCli(['status'], { env: cliEnv });
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /\x1b\[/, 'no colour codes into a pipe');
    for (const name of ['fra', 'iad', 'sin']) assert.match(text.stdout, new RegExp(`^${name} +yes .*echo 2/2`, 'm'), text.stdout);
  });

  it("every part's /metrics is valid Prometheus text to promtool, with meridian_ names and the shared label names", async () => {
    // Some traffic first, so that the request families have samples.
    for (let i = 0; i < 5; i++) assert.equal((await httpGet(`http://${e.regions.fra!.edge!.http}/`, { host: 'echo.mesh' })).status, 200);
    for (const [part, { url, part: partLabel, zone }] of Object.entries(metricsEndpoints())) {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/, url);
      const text = await res.text();
      await assertPromtoolAccepts(text, `${part}'s /metrics`);
      families.set(part, new Set(familyTypes(text).keys()));
      for (const name of families.get(part)!) assert.match(name, /^meridian_/, `${part}: ${name}`);
      for (const s of readSamples(text)) {
        for (const label of Object.keys(s.labels)) assert.ok(SHARED_LABEL_NAMES.has(label), `${part}: ${s.name} has label '${label}', not one of the shared names`);
        assert.equal(s.labels.part, partLabel, `${part}: ${s.name} part`);
        assert.equal(s.labels.zone, zone, `${part}: ${s.name} zone`);
      }
      if (part === 'edge-fra') {
        const answered = findSample(readSamples(text), 'meridian_edge_requests_total', { service: 'echo', region: 'fra' });
        assert.equal(answered?.labels.status_class, '2xx');
        assert.ok(answered!.value >= 5, 'the requests just sent are counted');
      }
    }
  });

  it('the Grafana dashboard queries only metrics that some part exports', () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'docs', 'grafana', 'meridian-dashboard.json'), 'utf8'));
    const exported = new Set([...families.values()].flatMap((f) => [...f]));
    assert.ok(exported.size > 20, 'the previous test read every part');
    const used = new Set<string>();
    for (const panel of dashboard.panels as { title: string; targets?: { expr: string }[] }[]) {
      for (const t of panel.targets ?? []) for (const m of t.expr.matchAll(/\bmeridian_[a-z0-9_]+/g)) used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
    assert.ok(used.size >= 10, `the dashboard queries ${used.size} metrics`);
    const missing = [...used].filter((m) => !exported.has(m));
    assert.deepEqual(missing, [], 'metrics the dashboard queries but no part exports');
  });

  it('the dashboard shows the three regions, and fra turning unhealthy once its echo instances die, without a reload', async () => {
    const page = browser.page;
    await page.goto(`${e.admin.url}/dashboard#token=${encodeURIComponent(e.admin.readToken)}`);
    await page.waitForSelector('#conn[data-conn="live"]', { timeout: 10_000 });
    assert.equal(await page.evaluate('location.hash'), '', 'the token leaves the address bar');
    assert.equal(await page.evaluate("localStorage.getItem('meridian.token')"), e.admin.readToken);
    for (const name of ['fra', 'iad', 'sin']) {
      await page.waitForSelector(`[data-region="${name}"][data-service="echo"][data-health="healthy"]`, { timeout: 5000 });
      assert.equal(await page.getAttribute(`#map [data-region="${name}"]`, 'data-online'), 'true', name);
      assert.equal(await page.getAttribute(`[data-edge="edge-${name}"]`, 'data-announcing'), 'false', 'the demo announces no anycast address');
    }
    assert.equal(await page.locator('#map [data-region]').count(), 3);

    // The page has no DOM types here (lib is ES2022): expressions go as strings.
    await page.evaluate('window.notReloaded = true');
    const killedAt = Date.now();
    for (const i of e.regions.fra!.instances) process.kill(i.pid, 'SIGKILL');
    await page.waitForSelector('[data-region="fra"][data-service="echo"][data-health="unhealthy"]', { timeout: 30_000 });
    const shownMs = Date.now() - killedAt;
    console.log(`# fra's echo instances killed: the dashboard shows fra unhealthy after ${shownMs} ms (health checks every 1 s, unhealthy after 2 failures)`);
    assert.equal(await page.evaluate('window.notReloaded'), true, 'no reload');
    assert.equal(await page.getAttribute('[data-region="iad"][data-service="echo"]', 'data-health'), 'healthy');

    fs.mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, 'dashboard-demo.png'), fullPage: true });
    assert.deepEqual(browser.pageErrors, [], 'no script errors and no CSP violations');
  });

  it('a request through edge (fra) -> ingress (iad) -> instance keeps one trace, and the logs link its spans', async () => {
    const client = '00-5c1b0e64a3d2f7e8b9a0c1d2e3f40516-1a2b3c4d5e6f7081-01';
    const traceId = traceIdOf(client);
    const r = await httpGet(`http://${e.regions.fra!.edge!.http}/`, { host: 'echo.mesh', traceparent: client });
    assert.equal(r.status, 200, r.body);
    const echoed = JSON.parse(r.body) as { region: string; headers: Record<string, string> };
    assert.equal(echoed.region, 'iad', 'fra has no instance left: iad serves');
    const atInstance = echoed.headers.traceparent!;
    assert.ok(isValidTraceparent(atInstance), atInstance);
    assert.equal(traceIdOf(atInstance), traceId, 'the instance sees the trace the client started');

    const spans = (part: string) =>
      demo
        .log(part, 400)
        .split('\n')
        .filter((l) => l.includes(traceId))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // The access log is written asynchronously, at the latest a second later.
    const found = await waitFor('the spans in the edge and ingress logs', async () => {
      const edge = spans('edge-fra').find((l) => l.span_name === 'edge');
      const ingress = spans('ingress-iad').find((l) => l.span_name === 'ingress');
      const call = spans('ingress-iad').find((l) => l.span_name === 'instance call');
      return edge && ingress && call ? { edge, ingress, call } : undefined;
    }, 5000, 100);
    assert.equal(found.edge.parent_span_id, parentIdOf(client), 'edge span: child of the client');
    assert.equal(found.ingress.parent_span_id, found.edge.span_id, 'ingress span: child of the edge span');
    assert.equal(found.call.parent_span_id, found.ingress.span_id, 'instance call: child of the ingress span');
    assert.equal(parentIdOf(atInstance), found.call.span_id, 'the instance: child of the call');
    assert.equal(found.edge.region, 'iad');
    assert.equal(found.call.status, 200);
    console.log(`# trace ${traceId}: edge ${found.edge.ms} ms, ingress ${found.ingress.ms} ms, instance call ${found.call.ms} ms`);
  });
});
