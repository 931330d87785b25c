// The operator's view of the mesh: GET /v1/status, the dashboard's WebSocket
// feed, the dashboard's files, `meridian status`, and /metrics; against a real
// global controller process on a real etcd, with fake zones on the real
// federation stream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as vm from 'node:vm';
import { familyTypes, findSample, readSamples } from '../test-support/metric-samples';
import { assertPromtoolAccepts } from '../test-support/promtool';
import { ADMIN_TOKEN, ControlPlane, READ_TOKEN } from './harness/global-controller-process';
import { FakeZone } from './harness/fake-zone';
import { StatusFeedClient } from './harness/status-feed-client';
import { waitFor } from './harness/child-process';
import { MERIDIAN_BIN } from '../test-support/repo-root';

const region = (name: string, latitude: number, longitude: number) => ({
  apiVersion: 'meridian.dev/v1',
  kind: 'Region',
  metadata: { name },
  spec: { location: { latitude, longitude } },
});

const instance = (id: string, port: number, healthy: boolean) => ({ id, service: 'echo', address: '127.0.0.1', port, weight: 1, healthy });

function runMeridian(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MERIDIAN_BIN(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Ages move between two reads; the moments they count from do not.
function comparable(status: any): any {
  const at = Date.parse(status.generatedAt);
  return {
    ...status,
    generatedAt: undefined,
    tunnels: status.tunnels.map((t: any) => ({ ...t, handshakeAgeMs: undefined, handshakeAt: t.handshakeAgeMs === null ? null : at - t.handshakeAgeMs })),
  };
}

const regionOf = (status: any, name: string) => status.regions.find((r: any) => r.name === name);

describe('mesh status: API, live feed, dashboard and CLI', () => {
  const cp = new ControlPlane();
  const fra = new FakeZone('fra');
  const iad = new FakeZone('iad');
  const feeds: StatusFeedClient[] = [];
  const handshakeAt = Date.now() - 5000;
  let wsUrl = '';

  const reportFra = (healthy: boolean) =>
    fra.report({
      ingressAddress: '127.0.0.1:7600',
      instances: [instance('fra-a', 9001, healthy), instance('fra-b', 9002, healthy)],
      peers: [{ region: 'iad', lastHandshakeAtMs: handshakeAt, up: true, rttMs: 80 }],
      edges: [
        { name: 'fra-edge', mode: 'edge', announcing: true, healthy: true, requestRate: 12.5, errorRate: 0.02, p99Ms: 35 },
        // An ingress is not an edge: not listed, and its traffic is not the region's.
        { name: 'fra-ingress', mode: 'ingress', announcing: false, healthy: true, requestRate: 4, errorRate: 0.5, p99Ms: 900 },
      ],
    });

  before(async () => {
    await cp.start(1);
    wsUrl = `ws://127.0.0.1:${cp.primary.httpPort}/v1/status/ws`;
    const applied = await cp.api('POST', '/v1/apply', [
      region('fra', 50.11, 8.68),
      region('iad', 38.95, -77.45),
      region('sin', 1.35, 103.99),
      { apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: 'echo' }, spec: {} },
    ]);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    await fra.join(cp);
    await iad.join(cp);
    fra.heartbeat();
    iad.heartbeat();
    reportFra(true);
    iad.report({
      ingressAddress: '127.0.0.1:7610',
      instances: [instance('iad-a', 9011, true), instance('iad-b', 9012, false)],
      peers: [{ region: 'fra', lastHandshakeAtMs: 0, up: false, rttMs: 0 }],
      edges: [{ name: 'iad-edge', announcing: false, healthy: false }],
    });
    await waitFor('both reports in /v1/status', async () => {
      const res = await cp.api('GET', '/v1/status', undefined, READ_TOKEN);
      return res.body.regions?.filter((r: any) => r.services.length > 0).length === 2 || undefined;
    });
  });

  after(async () => {
    for (const f of feeds) f.close();
    fra.close();
    iad.close();
    await cp.stop();
  });

  it('GET /v1/status merges the zone reports with the Region resources', async () => {
    const asked = Date.now();
    const res = await cp.api('GET', '/v1/status', undefined, READ_TOKEN);
    const answered = Date.now();
    assert.equal(res.status, 200);
    const s = res.body;
    const generatedAt = Date.parse(s.generatedAt);
    assert.ok(generatedAt >= asked - 1000 && generatedAt <= answered + 1000, `generated at ${s.generatedAt}, asked at ${new Date(asked).toISOString()}`);
    assert.deepEqual(s.regions.map((r: any) => [r.name, r.latitude, r.longitude, r.online]), [
      ['fra', 50.11, 8.68, true],
      ['iad', 38.95, -77.45, true],
      ['sin', 1.35, 103.99, false],
    ]);
    const f = regionOf(s, 'fra');
    assert.deepEqual(f.services, [{ service: 'echo', healthy: 2, total: 2 }]);
    assert.deepEqual(f.edges, [{ name: 'fra-edge', announcing: true, healthy: true }]);
    assert.deepEqual(f.traffic, { requestRate: 12.5, errorRate: 0.02, p99Ms: 35 });
    assert.equal(regionOf(s, 'iad').traffic, null, 'no edge of iad reports traffic');
    assert.ok(f.ackedVersion > 0);
    assert.ok(Date.parse(f.lastHeartbeat) <= answered + 1000, `last heartbeat ${f.lastHeartbeat}`);
    assert.deepEqual(regionOf(s, 'iad').edges, [{ name: 'iad-edge', announcing: false, healthy: false }]);
    assert.deepEqual(regionOf(s, 'sin'), {
      name: 'sin', latitude: 1.35, longitude: 103.99, online: false, lastHeartbeat: null, ackedVersion: 0, services: [], edges: [], traffic: null,
    });

    assert.equal(s.tunnels.length, 2);
    const [fraIad, iadFra] = s.tunnels;
    assert.deepEqual({ ...fraIad, handshakeAgeMs: undefined }, { from: 'fra', to: 'iad', up: true, handshakeAgeMs: undefined, rttMs: 80 });
    assert.ok(fraIad.handshakeAgeMs >= 5000 && fraIad.handshakeAgeMs < 60_000, `handshake age ${fraIad.handshakeAgeMs}`);
    assert.deepEqual(iadFra, { from: 'iad', to: 'fra', up: false, handshakeAgeMs: null, rttMs: 0 });
    assert.deepEqual(s.services, [{ service: 'echo', regions: { fra: { healthy: 2, total: 2 }, iad: { healthy: 1, total: 2 } } }]);

    assert.equal((await cp.api('GET', '/v1/status', undefined, 'not-a-token')).status, 401);
  });

  it('the feed refuses an upgrade without a valid token with 401', async () => {
    const cases: [string, string, string[] | undefined][] = [
      ['no token', wsUrl, undefined],
      ['a bad token as subprotocol', wsUrl, ['bearer.not-a-valid-token-at-all']],
      ['a bad token by query', `${wsUrl}?token=not-a-valid-token-at-all`, undefined],
    ];
    for (const [what, url, protocols] of cases) {
      const refused = await StatusFeedClient.refusal(url, protocols);
      assert.equal(refused.status, 401, what);
      assert.equal(refused.headers['www-authenticate'], 'Bearer', what);
      assert.match(JSON.parse(refused.body).error, /token/, what);
    }
    const elsewhere = await StatusFeedClient.refusal(`ws://127.0.0.1:${cp.primary.httpPort}/v1/other/ws?token=${READ_TOKEN}`);
    assert.equal(elsewhere.status, 404);
  });

  it('the feed takes a read token as subprotocol or by query, and sends the status at once', async () => {
    const bySubprotocol = await StatusFeedClient.open(wsUrl, [`bearer.${READ_TOKEN}`]);
    feeds.push(bySubprotocol);
    assert.equal(bySubprotocol.ws.protocol, `bearer.${READ_TOKEN}`, 'the protocol is echoed, as browsers require');
    const first = await bySubprotocol.next(() => true, 10_000);
    assert.deepEqual(first.status.regions.map((r: any) => r.name), ['fra', 'iad', 'sin']);

    const byQuery = await StatusFeedClient.open(`${wsUrl}?token=${encodeURIComponent(READ_TOKEN)}`);
    feeds.push(byQuery);
    assert.equal(byQuery.ws.protocol, '');
    const same = await byQuery.next(() => true, 10_000);
    assert.deepEqual(comparable(same.status).services, comparable(first.status).services);

    // Without changes, frames keep coming so that ages move.
    const later = await byQuery.next((s) => Date.parse(s.generatedAt) > Date.parse(same.status.generatedAt), 20_000, 1);
    console.log(`# unchanged feed refreshed after ${later.at - same.at} ms`);
    byQuery.close();
  });

  it('pushes a report change', async () => {
    const feed = await StatusFeedClient.open(wsUrl, [`bearer.${ADMIN_TOKEN}`]);
    feeds.push(feed);
    await feed.next(() => true, 10_000);
    const from = feed.frames.length;
    const sent = Date.now();
    reportFra(false);
    const changed = await feed.next((s) => regionOf(s, 'fra').services[0]?.healthy === 0, 20_000, from);
    console.log(`# report -> dashboard feed: ${changed.at - sent} ms (coalesced to one frame per 250 ms)`);
    assert.deepEqual(changed.status.services[0].regions.fra, { healthy: 0, total: 2 });
    reportFra(true);
    await feed.next((s) => regionOf(s, 'fra').services[0]?.healthy === 2, 20_000, from);
    feed.close();
  });

  it('the dashboard page and its files are served without a token and carry the data attributes', async () => {
    const base = cp.primary.url;
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/dashboard');

    const page = await fetch(`${base}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /<script src="\/dashboard\/app\.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\/dashboard\/style\.css">/);
    assert.match(html, /id="map"/);

    const app = await fetch(`${base}/dashboard/app.js`);
    assert.equal(app.status, 200);
    assert.match(app.headers.get('content-type') ?? '', /^text\/javascript/);
    const js = await app.text();
    assert.doesNotThrow(() => new vm.Script(js, { filename: 'app.js' }), 'app.js compiles');
    for (const attr of ['data-region', 'data-service', 'data-health', 'data-online', 'data-edge', 'data-announcing', 'data-tunnel']) {
      assert.ok(js.includes(`'${attr}'`), `app.js sets ${attr}`);
    }
    for (const word of ['healthy', 'degraded', 'unhealthy', '/v1/status/ws', 'bearer.', 'localStorage']) assert.ok(js.includes(word), word);
    assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(js), 'app.js loads nothing from elsewhere');

    const css = await fetch(`${base}/dashboard/style.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(await css.text(), /data-health="unhealthy"/);

    assert.equal((await fetch(`${base}/dashboard/missing.js`)).status, 404);
  });

  it('meridian status -o json prints what GET /v1/status says; the table shows every region', async () => {
    const env = { MERIDIAN_SERVER: cp.primary.url, MERIDIAN_TOKEN: READ_TOKEN };
    // Heartbeats would move lastHeartbeat between the reads; pause them briefly.
    fra.silence();
    iad.silence();
    await new Promise((r) => setTimeout(r, 150));
    try {
      const api = await cp.api('GET', '/v1/status', undefined, READ_TOKEN);
      const cli = await runMeridian(['status', '-o', 'json'], env);
      assert.equal(cli.code, 0, cli.stderr);
      assert.deepEqual(comparable(JSON.parse(cli.stdout)), comparable(api.body));
    } finally {
      fra.heartbeat();
      iad.heartbeat();
    }

    const table = await runMeridian(['status'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(!table.stdout.includes('\x1b['), 'no colour when stdout is not a terminal');
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^REGION\s+ONLINE\s+HEARTBEAT\s+ACKED\s+EDGES\s+SERVICES\s+TRAFFIC$/);
    assert.match(lines.find((l) => l.startsWith('fra '))!, /^fra\s+yes\s+\d+s ago\s+\d+\s+1\/1 announcing\s+echo 2\/2\s+13 req\/s, 2\.00% err, p99 35 ms$/);
    assert.match(lines.find((l) => l.startsWith('iad '))!, /^iad\s+yes\s+\d+s ago\s+\d+\s+0\/1 announcing \(iad-edge withdrawn\)\s+echo 1\/2\s+-$/);
    assert.match(lines.find((l) => l.startsWith('sin '))!, /^sin\s+no\s+never\s+-\s+-\s+-\s+-$/);
    assert.match(table.stdout, /^fra -> iad\s+yes\s+\d+s ago\s+80 ms$/m);
    assert.match(table.stdout, /^iad -> fra\s+no\s+never\s+-$/m);

    const refused = await runMeridian(['status'], { ...env, MERIDIAN_TOKEN: 'not-a-valid-token-at-all' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: not authorized/);
  });

  it('meridian status --watch redraws every second and stops on SIGINT with exit 0', async () => {
    const child = spawn(process.execPath, [MERIDIAN_BIN(), 'status', '--watch'], {
      env: { ...process.env, MERIDIAN_SERVER: cp.primary.url, MERIDIAN_TOKEN: READ_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    await waitFor('two frames', () => (stdout.match(/^meridian status · /gm) ?? []).length >= 2 || undefined, 20_000);
    const took = Date.now() - started;
    assert.ok(took >= 900, `second frame after ${took} ms`);
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.equal(code, 0);
    assert.match(stdout, /^fra\s+yes/m);
  });

  it('a zone that falls silent turns offline in the feed', async () => {
    const feed = await StatusFeedClient.open(wsUrl, [`bearer.${READ_TOKEN}`]);
    feeds.push(feed);
    await feed.next((s) => regionOf(s, 'iad').online === true, 10_000);
    const silentSince = Date.now();
    iad.silence();
    const offline = await feed.next((s) => regionOf(s, 'iad').online === false, 30_000);
    const took = offline.at - silentSince;
    console.log(`# silent zone offline in the feed after ${took} ms (three heartbeats of 1000 ms)`);
    assert.ok(took >= 2000, `offline after ${took} ms, before three heartbeats were missed`);
    assert.equal(regionOf(offline.status, 'fra').online, true);
    assert.deepEqual(offline.status.tunnels.find((t: any) => t.from === 'iad').up, false);
    feed.close();
  });

  it('/metrics is valid Prometheus text to promtool and counts the dashboard clients', async () => {
    const feed = await StatusFeedClient.open(wsUrl, [`bearer.${READ_TOKEN}`]);
    feeds.push(feed);
    await feed.next(() => true, 10_000);
    const res = await fetch(`${cp.primary.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    await assertPromtoolAccepts(text, "the global controller's /metrics");
    const types = familyTypes(text);
    const samples = readSamples(text);
    assert.equal(types.get('meridian_dashboard_clients'), 'gauge');
    assert.ok(findSample(samples, 'meridian_dashboard_clients')!.value >= 1);
    assert.equal(types.get('meridian_admin_request_duration_seconds'), 'histogram');
    assert.ok(findSample(samples, 'meridian_admin_request_duration_seconds_count', { route: 'status' }), 'GET /v1/status is measured');
    feed.close();
  });
});
