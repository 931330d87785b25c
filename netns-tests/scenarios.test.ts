// The multi-region scenarios, against the real Meridian processes in the
// lab (lab/meridian-stack.ts): etcd and the global controller in `global`;
// in fra, iad and sin a zone controller with its WireGuard tunnel, two echo
// instances, a zone ingress and an edge that announces 203.0.113.10 through
// BIRD. One stack for all seven; each scenario puts back what it broke.
// Every scenario prints its figures as `# ...` lines.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Lab, type Region } from './lab';
import { between, capture, describePacket } from './lab/capture';
import { onlyService, regionResource, serviceResources } from './lab/lab-resources';
import { MeridianStack, PORTS } from './lab/meridian-stack';
import { MeshProber, percentile, type MeshProbe } from './lab/mesh-prober';

const figure = (text: string) => console.log(`# ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(rs: MeshProbe[]): string {
  const ms = rs.filter((r) => r.ok).map((r) => r.ms);
  return `${rs.length} requests, ${rs.filter((r) => !r.ok).length} failed, p50 ${percentile(ms, 50)} ms, p99 ${percentile(ms, 99)} ms`;
}

describe('Meridian in the lab: seven scenarios', () => {
  let lab: Lab;
  let stack: MeridianStack;
  const url = () => `http://${lab.addresses.anycast}/`;
  const tunnel = (r: Region) => lab.addresses.regions[r].tunnel;

  before(async () => {
    const t0 = Date.now();
    lab = await Lab.create({ wireguard: false, announceAnycast: false, regions: ['fra', 'iad', 'sin', 'syd'] });
    stack = await MeridianStack.start(lab, { regions: ['fra', 'iad', 'sin'], only: ['iad'] });
    figure(`lab ${lab.prefix}: namespaces and BGP in ${lab.timings.setupMs + lab.timings.bgpConvergeMs} ms; Meridian up (global ${stack.timings.globalMs} ms, three regions steady ${stack.timings.regionsMs} ms) ${Date.now() - t0} ms after start`);
  });

  after(async () => {
    await stack?.stop().catch(() => undefined);
    await lab?.teardown();
  });

  test('(1) each continent client reaches its own continent edge on the anycast address', async () => {
    const expected = { eu: 'fra', us: 'iad', ap: 'sin' } as const;
    for (const [c, r] of Object.entries(expected)) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await stack.http(`${c as 'eu'}-client`).request(url(), { headers: { host: 'echo.mesh' } });
        assert.equal(res.status, 200, res.body);
        assert.equal(res.headers['x-meridian-edge'], `edge-${r}`, `${c}-client, try ${i}`);
        assert.equal(res.headers['x-meridian-region'], r);
        times.push(res.ms);
      }
      figure(`(1) ${c}-client -> ${lab.addresses.anycast} -> edge-${r}, served by ${r}: ${Math.min(...times)}-${Math.max(...times)} ms per request (new connection each)`);
    }
  });

  test('(2) a cross-region request rides the tunnel: on the eu—us link only UDP to the WireGuard port, no TCP to the ingress, no plaintext', async () => {
    const link = lab.addresses.backbone.find((l) => l.a.node === 'eu' && l.b.node === 'us')!;
    const fra = lab.addresses.regions.fra;
    const iad = lab.addresses.regions.iad;
    const marker = `MERIDIAN-CLEARTEXT-${crypto.randomBytes(6).toString('hex')}`;
    const n = 20;
    const answers: { status: number; edge: unknown; region: unknown; ms: number; body: string }[] = [];
    const packets = await capture(lab, 'eu', link.a.ifname, 'scenario2', async () => {
      for (let i = 0; i < n; i++) {
        const res = await stack.http('eu-client').request(`${url()}${marker}/${i}`, { headers: { host: `${onlyService('iad')}.mesh`, 'x-marker': marker } });
        answers.push({ status: res.status, edge: res.headers['x-meridian-edge'], region: res.headers['x-meridian-region'], ms: res.ms, body: res.body });
      }
    });
    for (const a of answers) {
      assert.equal(a.status, 200, a.body);
      assert.equal(a.edge, 'edge-fra');
      assert.equal(a.region, 'iad');
      assert.ok(a.body.includes(marker), 'the instance saw the marker (and echoed it back)');
    }
    const port = lab.addresses.wgPort;
    const ingressTcp = packets.filter((p) => p.protocol === 6 && (p.srcPort === PORTS.ingress || p.dstPort === PORTS.ingress));
    assert.deepEqual(ingressTcp.map(describePacket), [], `no TCP to or from the ingress port ${PORTS.ingress}`);
    assert.deepEqual(packets.filter((p) => between(p, fra.tunnel, iad.tunnel)).map(describePacket), [], 'no packet with tunnel addresses on the link');
    const hostToHost = packets.filter((p) => between(p, fra.underlay, iad.underlay));
    const notWg = hostToHost.filter((p) => !(p.protocol === 17 && p.srcPort === port && p.dstPort === port));
    assert.deepEqual(notWg.map(describePacket), [], 'fra <-> iad: only UDP port to port');
    assert.ok(!packets.some((p) => p.frame.includes(marker)), 'the marker is nowhere on the link');
    assert.ok(!packets.some((p) => p.frame.includes(marker.slice(0, 16))), 'not even its first 16 bytes');
    const wgBytes = hostToHost.reduce((s, p) => s + p.frame.length, 0);
    assert.ok(wgBytes > n * 200, `WireGuard carried the requests (${wgBytes} B)`);
    const ms = answers.map((a) => a.ms);
    figure(`(2) ${n} requests eu-client -> edge-fra -> ingress-iad: all served by iad, p50 ${percentile(ms, 50)} ms; eu—us link: ${packets.length} packets, fra<->iad ${hostToHost.length} UDP ${port}<->${port} packets (${wgBytes} B), 0 TCP to ${PORTS.ingress}, marker not visible`);
  });

  const killEchos = (r: Region) => stack.killEchos(r);

  test('(3) zone failover: fra loses its instances; the eu client is served by iad with no failed request', async () => {
    const prober = await MeshProber.start(lab, 'eu-client', url(), { host: 'echo.mesh', intervalMs: 20, timeoutMs: 3000, durationMs: 60_000 });
    let restore: (() => Promise<void>) | undefined;
    try {
      await prober.waitFor((r) => r.ok && r.region === 'fra', 5000);
      const start = prober.results.length;
      const t0 = Date.now();
      restore = await killEchos('fra');
      const moved = await prober.waitFor((r) => r.ok && r.region === 'iad' && r.t >= t0, 10_000, start);
      await sleep(3000);
      const during = prober.results.slice(start).filter((r) => r.t >= t0);
      const failed = during.filter((r) => !r.ok);
      assert.deepEqual(failed, [], `failed requests: ${prober.describe(failed)}`);
      const elsewhere = during.filter((r) => r.t > moved.t && !(r.region === 'iad' && r.edge === 'edge-fra'));
      assert.deepEqual(elsewhere, [], `after the move, not iad through edge-fra: ${prober.describe(elsewhere)}`);
      figure(`(3) fra instances killed: eu client served by iad (through edge-fra and the tunnel) from ${moved.t + moved.ms - t0} ms; ${stats(during)}`);

      const back0 = Date.now();
      const backFrom = prober.results.length;
      const again = restore;
      restore = undefined;
      await again();
      const registered = Date.now();
      const fraTarget = async () => ((await stack.edgeView('fra')).services.echo.regions as { name: string; circuit: string }[]).find((x) => x.name === 'fra');
      const circuit = (await stack.waitFor('fra back in the plan of edge-fra', fraTarget, 5000, 50)).circuit;
      const back = await prober.waitFor((r) => r.ok && r.region === 'fra' && r.t >= back0, 15_000, backFrom);
      const meanwhile = prober.results.slice(backFrom).filter((r) => r.t >= back0 && r.t <= back.t);
      assert.equal(meanwhile.filter((r) => !r.ok).length, 0);
      figure(`(3) fra instances restarted and registered in ${registered - back0} ms (two processes and two 'meridian register'); back on fra ${back.t - registered} ms after that (fra's circuit at edge-fra was ${circuit}${circuit === 'closed' ? '' : ': the failures opened it, traffic returns after its openFor of 10 s'}), ${meanwhile.filter((r) => !r.ok).length} failed`);
    } finally {
      if (restore) await restore().catch(() => undefined);
      await prober.stop();
    }
  });

  test('(4) edge failover: SIGTERM to edge-fra withdraws its route first; the eu client reaches edge-iad', async () => {
    const prober = await MeshProber.start(lab, 'eu-client', url(), { host: 'echo.mesh', intervalMs: 20, timeoutMs: 3000, durationMs: 60_000 });
    const edge = stack.partsOf('fra').edge!;
    try {
      await prober.waitFor((r) => r.ok && r.edge === 'edge-fra', 5000);
      const start = prober.results.length;
      const t0 = Date.now();
      edge.child.kill('SIGTERM');
      const moved = await prober.waitFor((r) => r.ok && r.edge === 'edge-iad' && r.t >= t0, 10_000, start);
      const exited = await edge.exited;
      const exitMs = Date.now() - t0;
      await sleep(500);
      const during = prober.results.slice(start).filter((r) => r.t >= t0);
      const failed = during.filter((r) => !r.ok);
      const lastFra = during.filter((r) => r.edge === 'edge-fra').at(-1);
      assert.equal(exited.code, 0, 'edge-fra drained and exited 0');
      const log = edge.stdout;
      assert.ok(log.indexOf('anycast withdrawn before draining') >= 0 && log.indexOf('anycast withdrawn before draining') < log.indexOf('"msg":"drained"'), 'withdrawn, then drained');
      const route = (await lab.kernelRoutes('eu', 'bird')).find((x) => x.dst === `${lab.addresses.anycast}/32`);
      assert.equal(route?.gateway, lab.addresses.backbone[0]!.b.address, 'eu routes the anycast address to us');
      figure(`(4) SIGTERM edge-fra: eu client answered by edge-iad ${moved.t + moved.ms - t0} ms later (gap), last answer from edge-fra ${lastFra ? lastFra.t - t0 : 0} ms after the signal; edge-fra exited 0 after ${exitMs} ms; ${stats(during)}`);
      // A connection opened to fra just before the route moved sends its
      // next packets to iad, which resets it: anycast pins no flows. That is
      // the only failure the move may cause, and only at the moment it moves.
      assert.ok(failed.every((r) => r.error === 'ECONNRESET' && Math.abs(r.t - moved.t) < 1000), `failed requests: ${prober.describe(failed)}`);
      assert.ok(failed.length <= 2, `at most a couple of connections cut by the route change, got ${failed.length}`);

      const back0 = Date.now();
      const backFrom = prober.results.length;
      await stack.startEdge('fra');
      await stack.waitAnnouncing('fra');
      const back = await prober.waitFor((r) => r.ok && r.edge === 'edge-fra' && r.t >= back0, 15_000, backFrom);
      figure(`(4) edge-fra started again: announcing, eu client back on it ${back.t - back0} ms after the start; ${prober.results.slice(backFrom).filter((r) => !r.ok).length} failed`);
    } finally {
      if (!stack.partsOf('fra').edge?.running) await stack.startEdge('fra').then(() => stack.waitAnnouncing('fra')).catch(() => undefined);
      await prober.stop();
    }
  });

  test('(5) broken link: with the fra—iad tunnel down, fra reaches iad through sin; no failed request', async () => {
    const a = lab.addresses;
    const relayed = (r: MeshProbe) => r.ok && r.region === 'iad' && (r.via ?? '').split(', ').includes(tunnel('sin'));
    const direct = (r: MeshProbe) => r.ok && r.region === 'iad' && !(r.via ?? '').includes(tunnel('sin'));
    // A client's 2 s timeout (as the failover bench's): the GETs caught on
    // the dead path wait for edge-fra's path check and fra's probes (~1 s).
    const prober = await MeshProber.start(lab, 'eu-client', url(), { host: `${onlyService('iad')}.mesh`, intervalMs: 20, timeoutMs: 2000, durationMs: 90_000 });
    let blocked = false;
    try {
      await prober.waitFor(direct, 5000);
      const start = prober.results.length;
      const t0 = Date.now();
      await stack.blockTunnel('fra', 'iad', true);
      blocked = true;
      const hit = await prober.waitFor((r) => relayed(r) && r.t >= t0, 20_000, start);
      const converged = hit.t + hit.ms - t0;
      await sleep(3000);
      // Every request answered since the block; those started before the
      // first relayed answer were caught on the dead path (or waited for the
      // relay); those after it go through sin.
      const since = prober.results.slice(start);
      const caught = since.filter((r) => r.t < t0 + converged);
      const afterwards = since.filter((r) => r.t >= t0 + converged);
      const failed = since.filter((r) => !r.ok);
      const slowest = Math.max(0, ...caught.filter((r) => r.ok).map((r) => r.ms));
      assert.ok(afterwards.every(relayed), 'every request after convergence went fra -> sin -> iad');
      const view = await stack.edgeView('fra');
      const iadEntry = (view.remoteRegions as { name: string; relayVia?: string }[]).find((x) => x.name === 'iad');
      assert.equal(iadEntry?.relayVia, 'sin', "edge-fra's view: iad through sin");
      assert.match(hit.via ?? '', new RegExp(`, ${tunnel('fra').replace(/\./g, '\\.')}, ${tunnel('sin').replace(/\./g, '\\.')}$`), 'x-forwarded-for: client, edge-fra, ingress-sin');
      // The rest of fra's traffic does not notice.
      const local = await stack.http('eu-client').request(url(), { headers: { host: 'echo.mesh' } });
      assert.equal(local.headers['x-meridian-region'], 'fra');
      figure(`(5) fra—iad tunnel blocked (UDP ${a.wgPort}): only-iad from the eu client relayed fra -> sin -> iad, first relayed answer ${converged} ms after the block; ${caught.length} requests in flight or started before it, ${caught.filter((r) => !r.ok).length} failed, the slowest answered in ${slowest} ms; after it ${stats(afterwards)}, all through sin`);
      assert.deepEqual(failed, [], `failed since the block: ${prober.describe(failed)}`);

      await stack.blockTunnel('fra', 'iad', false);
      blocked = false;
      const back0 = Date.now();
      const backFrom = prober.results.length;
      const back = await prober.waitFor((r) => direct(r) && r.t >= back0, 30_000, backFrom);
      const meanwhile = prober.results.slice(backFrom).filter((r) => r.t <= back.t);
      figure(`(5) tunnel unblocked: direct fra -> iad again after ${back.t - back0} ms (WireGuard handshake, then probes), ${meanwhile.filter((r) => !r.ok).length} failed meanwhile`);
      assert.equal(meanwhile.filter((r) => !r.ok).length, 0, `going back to direct fails nothing: ${prober.describe(meanwhile.filter((r) => !r.ok))}`);
    } finally {
      if (blocked) await stack.blockTunnel('fra', 'iad', false).catch(() => undefined);
      await prober.stop();
    }
  });

  test('(6) control plane away: with the global controller stopped, the data plane serves and fails over on what it knows', async () => {
    const prober = await MeshProber.start(lab, 'eu-client', url(), { host: 'echo.mesh', intervalMs: 20, timeoutMs: 3000, durationMs: 90_000 });
    let restore: (() => Promise<void>) | undefined;
    try {
      await prober.waitFor((r) => r.ok && r.region === 'fra', 5000);
      const start = prober.results.length;
      const t0 = Date.now();
      await stack.stopGlobalController();
      assert.equal(stack.controller!.running, false);
      await sleep(4000);
      const zone = await stack.http('fra').json(`http://127.0.0.1:${PORTS.zoneHttp}/healthz`);
      assert.equal(zone.federated, false, 'fra zone controller lost the global controller');
      assert.equal((await stack.edgeHealth('fra')).announcing, true, 'edge-fra still announces');
      const away = prober.results.slice(start).filter((r) => r.t >= t0);
      assert.ok(away.every((r) => r.ok && r.region === 'fra'), `served by fra meanwhile: ${prober.describe(away.filter((r) => !r.ok || r.region !== 'fra'))}`);

      const k0 = Date.now();
      const kFrom = prober.results.length;
      restore = await killEchos('fra');
      const moved = await prober.waitFor((r) => r.ok && r.region === 'iad' && r.t >= k0, 10_000, kFrom);
      await sleep(2000);
      const failover = prober.results.slice(kFrom).filter((r) => r.t >= k0);
      assert.deepEqual(failover.filter((r) => !r.ok), [], 'failover without the global controller fails nothing');
      figure(`(6) global controller stopped: ${stats(away)} served by fra over ${Math.round((k0 - t0) / 100) / 10} s; then fra's instances killed: on iad after ${moved.t + moved.ms - k0} ms, ${stats(failover)}`);

      await restore();
      restore = undefined;
      const back = await prober.waitFor((r) => r.ok && r.region === 'fra' && r.t >= k0, 15_000, kFrom);
      const g0 = Date.now();
      await stack.startGlobalController();
      await stack.waitFor('every zone federated again', async () => {
        const view = await stack.regionsView();
        return ['fra', 'iad', 'sin'].every((r) => view.find((z) => z.region === r)?.online);
      }, 30_000, 250);
      const all = prober.results.slice(start);
      assert.deepEqual(all.filter((r) => !r.ok), [], 'nothing failed during the whole outage');
      figure(`(6) fra's instances back (on fra again ${back.t - k0} ms after the kill); global controller restarted, every zone online again after ${Date.now() - g0} ms; ${stats(all)} over the whole scenario`);
    } finally {
      if (restore) await restore().catch(() => undefined);
      if (!stack.controller?.running) await stack.startGlobalController().catch(() => undefined);
      await prober.stop();
    }
  });

  test('(7) a fourth region, syd, joins with meridian apply and its own zone controller, and serves; nothing else restarts', async () => {
    const others = stack.pids();
    const t0 = Date.now();
    const applied = await stack.apply([regionResource(lab.addresses, 'syd'), ...serviceResources(['iad', 'syd'])]);
    assert.match(applied, /region\/syd created/);
    await stack.startRegion('syd', { only: true });
    const startedMs = Date.now() - t0;
    await stack.waitSteady(['fra', 'iad', 'sin', 'syd']);
    const steadyMs = Date.now() - t0;

    // The others reach syd over their tunnels: a service only syd has, from the eu client.
    // (its instance's health reaches fra through syd's zone, the global
    // controller and fra's zone: wait for it, bounded)
    const res = await stack.waitFor('only-syd served through edge-fra', async () => {
      const r = await stack.http('eu-client').request(url(), { headers: { host: `${onlyService('syd')}.mesh` } });
      return r.status === 200 ? r : undefined;
    }, 10_000, 100);
    assert.equal(res.headers['x-meridian-edge'], 'edge-fra');
    assert.equal(res.headers['x-meridian-region'], 'syd');
    // syd's own edge serves on the anycast address, and announces it to ap.
    const own = await stack.http('syd').request(url(), { headers: { host: 'echo.mesh' } });
    assert.equal(own.headers['x-meridian-edge'], 'edge-syd');
    assert.equal(own.headers['x-meridian-region'], 'syd');
    const routes = (await lab.bird('ap').birdc(['show', 'route', 'for', `${lab.addresses.anycast}/32`, 'all'])).map((l) => l.text).join('\n');
    assert.match(routes, /bgp_syd/, 'ap learns the anycast address from syd too');
    assert.match(routes, /bgp_sin/);

    const view = await stack.regionsView();
    const syd = view.find((z) => z.region === 'syd')!;
    assert.equal(syd.online, true);
    const echo = syd.services.find((s) => s.service === 'echo');
    assert.equal(echo?.healthy, 2);
    assert.equal(echo?.total, 2);
    const now = stack.pids();
    for (const [name, pid] of Object.entries(others)) assert.equal(now[name], pid, `${name} was not restarted`);
    const rtt = (syd.peers ?? []).map((p) => `${p.region} ${p.rttMs} ms`).join(', ');
    figure(`(7) syd applied and started in ${startedMs} ms; online, tunnels up to every region and announcing after ${steadyMs} ms; only-syd from the eu client via edge-fra in ${res.ms} ms; syd's tunnel RTTs: ${rtt}; ${Object.keys(others).length} other processes untouched`);
  });
});
