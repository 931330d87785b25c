// (F) `meridian bootstrap --role region` on a region host of the lab, then
// its zone controller started from exactly the ExecStart line of the unit
// bootstrap wrote (lab/unit-command.ts resolves what systemd would): the
// region joins the global controller and shows online in the global view.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Lab } from './lab';
import { regionResource, serviceResources } from './lab/lab-resources';
import { MeridianStack, PORTS } from './lab/meridian-stack';
import { unitCommand } from './lab/unit-command';

const figure = (text: string) => console.log(`# ${text}`);

describe('(F) a region node made by meridian bootstrap', () => {
  let lab: Lab;
  let stack: MeridianStack;

  before(async () => {
    lab = await Lab.create({ wireguard: false, announceAnycast: false });
    stack = new MeridianStack(lab);
    await stack.startGlobal();
    await stack.apply([regionResource(lab.addresses, 'fra'), ...serviceResources([])]);
  });

  after(async () => {
    await stack?.stop().catch(() => undefined);
    await lab?.teardown();
  });

  test('bootstrap writes the node; the zone controller from its unit joins and the region is online', async () => {
    const root = stack.dir('fra', 'node');
    const tokenFile = path.join(stack.dir('fra'), 'join-token');
    fs.writeFileSync(tokenFile, `${await stack.token('fra')}\n`, { mode: 0o600 });
    const t0 = Date.now();
    const out = await stack.meridian('fra', [
      'bootstrap', '--role', 'region', '--region', 'fra', '--global', stack.federation, '--join-token-file', tokenFile,
      '--root', root, '--no-install', '--no-start', '--node-name', 'fra-1', '--public-address', lab.addresses.regions.fra.underlay,
    ]);
    assert.match(out.stdout, /^done: \d+ created/m);
    assert.equal(fs.statSync(path.join(root, 'etc/meridian/join-token')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(root, 'etc/meridian/wireguard/private.key')).mode & 0o777, 0o600);
    const bootstrapMs = Date.now() - t0;

    const cmd = unitCommand(root, 'meridian-zone-controller.service');
    assert.equal(cmd.argv[2], 'zone-controller');
    assert.ok(cmd.argv.includes(`${cmd.credentialsDir}/join-token`), 'the token from the credentials directory');
    const t1 = Date.now();
    const zone = lab.spawn('fra', cmd.argv[0]!, cmd.argv.slice(1), { name: 'fra-zone-from-unit' });
    const online = await stack.waitFor('fra online in the global view', async () => (await stack.regionsView()).find((z) => z.region === 'fra' && z.online && z.ingressAddress !== ''), 30_000, 200, [zone]);
    const joinedMs = Date.now() - t1;
    assert.equal(online.ingressAddress, `${lab.addresses.regions.fra.underlay}:${PORTS.ingress}`, 'the advertised ingress from meridian.env');
    const health = await stack.http('fra').json(`http://127.0.0.1:${PORTS.zoneHttp}/healthz`);
    assert.equal(health.federated, true);
    assert.ok(fs.existsSync(path.join(root, 'var/lib/meridian/zone/global-state.json')), 'state in the unit\'s StateDirectory');
    figure(`(F) bootstrap wrote the region node in ${bootstrapMs} ms; ExecStart of meridian-zone-controller.service: ${cmd.execStart}`);
    figure(`(F) started from that line (\${VAR} from meridian.env, %d the credentials directory, node paths under --root): fra online in the global view ${joinedMs} ms after start`);
  });
});
