// (a) BGP converges: every session comes up, every router learns every
// region's underlay prefix and the anycast /32 through BGP, and the underlay
// reaches across continents with no static route between them.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BirdError, isEstablished } from '../lib/net/bird-control';
import { CONTINENTS, REGIONS, Lab } from './lab';

describe('BGP in the lab', () => {
  let lab: Lab;

  before(async () => {
    lab = await Lab.create({ wireguard: false });
  });

  after(async () => {
    await lab?.teardown();
  });

  test('every BGP session is Established', async (t) => {
    t.diagnostic(`lab ${lab.prefix}: namespaces and links in ${lab.timings.setupMs} ms; BIRD start to full convergence ${lab.timings.bgpConvergeMs} ms`);
    const want = { eu: ['bgp_us', 'bgp_fra'], us: ['bgp_eu', 'bgp_ap', 'bgp_iad'], ap: ['bgp_us', 'bgp_sin'], fra: ['bgp_eu'], iad: ['bgp_us'], sin: ['bgp_ap'] };
    for (const [node, names] of Object.entries(want) as [keyof typeof want, string[]][]) {
      const sessions = await lab.bird(node).bgpSessions();
      assert.deepEqual(sessions.map((s) => s.name).sort(), [...names].sort(), `${node}'s sessions`);
      for (const s of sessions) assert.ok(isEstablished(s), `${node} ${s.name}: ${s.state} ${s.info}`);
    }
  });

  test('every router learns every region prefix and the anycast /32, towards the nearest region', async () => {
    const a = lab.addresses;
    for (const c of CONTINENTS) {
      const routes = await lab.kernelRoutes(c, 'bird');
      for (const r of REGIONS) {
        const route = routes.find((x) => x.dst === a.regions[r].underlayPrefix);
        assert.ok(route, `${c} has no BGP route to ${r}'s ${a.regions[r].underlayPrefix}`);
        // Its own region's prefix straight over the access link, the others over the backbone.
        if (a.regions[r].continent === c) assert.equal(route.gateway, a.regions[r].uplink.b.address, `${c} -> ${r}`);
        else assert.ok(a.backbone.some((l) => [l.a.address, l.b.address].includes(route.gateway!)), `${c} -> ${r} via ${route.gateway}`);
      }
      const anycast = routes.find((x) => x.dst === `${a.anycast}/32`);
      const own = REGIONS.find((r) => a.regions[r].continent === c)!;
      assert.equal(anycast?.gateway, a.regions[own].uplink.b.address, `${c}'s anycast route goes to ${own}`);
    }
    assert.deepEqual(await lab.missingRoutes(), []);
  });

  test('the underlay reaches across continents: regions to regions, regions and clients to global', async () => {
    const a = lab.addresses;
    const pings: [Parameters<Lab['exec']>[0], string][] = [];
    for (const r of REGIONS) {
      for (const o of REGIONS) if (o !== r) pings.push([r, a.regions[o].underlay]);
      pings.push([r, a.global.address]);
    }
    for (const c of CONTINENTS) pings.push([`${c}-client`, a.global.address]);
    for (const [from, to] of pings) {
      const { stdout } = await lab.exec(from, 'ping', ['-c', '1', '-W', '2', to]);
      assert.match(stdout, / 0% packet loss/, `${from} -> ${to}`);
    }
  });

  test('a config BIRD refuses is not installed, and BIRD keeps running on the old one', async () => {
    const control = lab.bird('us');
    const before = fs.readFileSync(control.opts.configPath, 'utf8');
    await assert.rejects(control.apply('protocol bgp broken { neighbor nowhere; }\n'), BirdError);
    assert.equal(fs.readFileSync(control.opts.configPath, 'utf8'), before);
    assert.deepEqual(fs.readdirSync(lab.dir + '/us').filter((f) => f.startsWith('.')), [], 'no temporary file left');
    await control.configure();
    for (const s of await control.bgpSessions()) assert.ok(isEstablished(s), `us ${s.name}: ${s.state} ${s.info}`);
  });
});
