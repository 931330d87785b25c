// `<service>.mesh` from a workload's side, against the real Meridian
// processes in the lab (lab/meridian-stack.ts): a namespace on fra's private
// instance network (172.20.1.0/24, in the Region's spec.instanceNetworks)
// asks fra's zone DNS for the name and calls the answer, fra's mesh listener
// (the edge's --mesh-http on 172.20.1.1:80). HTTP (echo) and TCP (redis, a
// real redis-cli), local first and over the tunnel to iad when fra's
// instances die; a caller outside fra's networks is turned away. One stack
// for all; each test puts back what it broke and prints its figures as `# ...`.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { Lab, workloadNode, type Region } from './lab';
import { REDIS_PORT, redisService } from './lab/lab-resources';
import { MeridianStack, PORTS } from './lab/meridian-stack';
import { countByRegion, describe as describeAnswers, resolveMesh, WorkloadHttpStream, WorkloadRedisConnection, WorkloadRedisLoop, type DnsServer } from './lab/mesh-workload';

const figure = (text: string) => console.log(`# ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const counts = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ');

describe('<service>.mesh from a workload in fra', () => {
  let lab: Lab;
  let stack: MeridianStack;
  const workload = workloadNode('fra');
  const net = (r: Region) => lab.addresses.regions[r].instanceNetwork;
  const zoneDns = (): DnsServer => ({ host: net('fra').host, port: PORTS.dns });

  // redis healthy in the zone of each region given (the others not asked).
  const redisHealthy = (regions: Region[]) =>
    stack.waitFor(`redis healthy in ${regions.join(', ')}`, async () => {
      const view = await stack.regionsView();
      return regions.every((r) => (view.find((z) => z.region === r)?.services.find((s) => s.service === 'redis')?.healthy ?? 0) === 1);
    }, 20_000, 200);

  before(async () => {
    const t0 = Date.now();
    lab = await Lab.create({ wireguard: false, announceAnycast: false });
    stack = await MeridianStack.start(lab);
    await stack.apply([redisService()]);
    await Promise.all((['fra', 'iad'] as const).map((r) => stack.startRedis(r)));
    await redisHealthy(['fra', 'iad']);
    figure(`lab ${lab.prefix}: Meridian in fra, iad, sin and redis in fra and iad up ${Date.now() - t0} ms after start; workload ${lab.ns(workload)} at ${net('fra').workload}, fra's mesh listener ${net('fra').host}:${PORTS.meshHttp}, zone DNS ${net('fra').host}:${PORTS.dns}`);
  });

  after(async () => {
    await stack?.stop().catch(() => undefined);
    await lab?.teardown();
  });

  test('the zone DNS gives the workload fra\'s mesh listener address for echo.mesh and redis.mesh, and no address for a service that does not exist', async () => {
    for (const name of ['echo.mesh', 'redis.mesh']) {
      const answer = await resolveMesh(lab, workload, zoneDns(), name);
      assert.deepEqual(answer, { addresses: [net('fra').host] }, `${name} at ${zoneDns().host}:${zoneDns().port}`);
    }
    assert.deepEqual(await resolveMesh(lab, workload, zoneDns(), 'nope.mesh'), { error: 'ENOTFOUND' });
    figure(`(1) ${workload} asks ${zoneDns().host}:${zoneDns().port}: echo.mesh and redis.mesh A ${net('fra').host}; nope.mesh NXDOMAIN`);
  });

  test('plain HTTP to the answer on port 80 (Host echo.mesh) is served by fra', async () => {
    const { addresses } = await resolveMesh(lab, workload, zoneDns(), 'echo.mesh');
    assert.ok(addresses?.length, 'echo.mesh resolves');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await stack.http(workload).request(`http://${addresses[0]}:${PORTS.meshHttp}/`, { headers: { host: 'echo.mesh' } });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-meridian-region'], 'fra');
      assert.equal(res.headers['x-meridian-edge'], 'edge-fra', 'taken by fra\'s edge (its mesh listener)');
      assert.equal((JSON.parse(res.body) as { region: string }).region, 'fra', 'the echo instance that answered is in fra');
      times.push(res.ms);
    }
    figure(`(2) ${workload} -> http://${addresses[0]}/ Host echo.mesh: 5 of 5 served by fra, ${Math.min(...times)}-${Math.max(...times)} ms (new connection each)`);
  });

  test('a steady stream from the workload while every fra echo instance is killed: none fails, the later ones served by iad over the tunnel', async () => {
    const stream = await WorkloadHttpStream.start(lab, workload, zoneDns(), { name: 'echo.mesh', ratePerSecond: 20, durationMs: 15_000, maxCount: 300, timeoutMs: 3000 });
    let restore: (() => Promise<void>) | undefined;
    try {
      await stream.waitFor((r) => r.ok && r.region === 'fra', 5000);
      await sleep(5000);
      const t0 = Date.now();
      restore = await stack.killEchos('fra');
      const moved = await stream.waitFor((r) => r.ok && r.region === 'iad' && r.t >= t0, 10_000);
      await stream.finished(30_000);
      const done = stream.events.find((e) => e.done) as { started: number; answered: number; cutShort?: boolean } | undefined;
      assert.ok(done && !done.cutShort, `the stream ended by itself with every request answered: ${JSON.stringify(done)}`);
      const rs = stream.results;
      assert.equal(rs.length, done.started, 'an answer for every request');
      const failed = rs.filter((r) => !r.ok);
      assert.equal(failed.length, 0, `${failed.length} of ${rs.length} requests failed (${counts(countByRegion(rs))}); the first: ${describeAnswers(failed.slice(0, 10))}`);
      const mismatched = rs.filter((r) => r.served !== r.region);
      const elsewhere = rs.filter((r) => r.edge !== 'edge-fra');
      assert.equal(elsewhere.length, 0, `every request taken by edge-fra's mesh listener: ${elsewhere.slice(0, 5).map((r) => r.edge).join(', ')}`);
      assert.equal(mismatched.length, 0, `x-meridian-region names the region of the instance that answered: ${mismatched.slice(0, 5).map((r) => `${r.region} vs ${r.served}`).join(', ')}`);
      // Answered before the kill (one in flight at the kill may be answered by either).
      const before = rs.filter((r) => r.t + r.ms < t0);
      const later = rs.filter((r) => r.t > moved.t);
      assert.ok(before.length > 0, 'answers before the kill');
      assert.deepEqual(before.filter((r) => r.region !== 'fra').map((r) => `${r.region} at ${r.t - t0}+${r.ms} ms`), [], `answered before the kill: fra only (${counts(countByRegion(before))})`);
      assert.ok(later.length > 0 && later.every((r) => r.region === 'iad'), `after the first iad answer: iad only (${counts(countByRegion(later))})`);
      figure(`(3) ${rs.length} requests at 20/s over ${Math.round((rs.at(-1)!.t - rs[0]!.t) / 1000)} s, fra's echo instances SIGKILLed after ${before.length}: ${counts(countByRegion(rs))}; first iad answer ${moved.t + moved.ms - t0} ms after the kill; p99 ${[...rs.map((r) => r.ms)].sort((a, b) => a - b)[Math.floor(rs.length * 0.99)]} ms`);
    } finally {
      await stream.stop();
      if (restore) await restore();
    }
  });

  test('redis-cli from the workload to redis.mesh:6379, a new connection each: PONG while fra\'s redis is killed (but for one open at the kill), the new connections after it served by iad', async () => {
    const held = await WorkloadRedisConnection.open(lab, workload, zoneDns(), { name: 'redis.mesh', port: REDIS_PORT, intervalMs: 200, durationMs: 14_000 });
    const loop = await WorkloadRedisLoop.start(lab, workload, zoneDns(), { name: 'redis.mesh', port: REDIS_PORT, intervalMs: 100, durationMs: 12_000, timeoutMs: 3000 });
    let restore: (() => Promise<void>) | undefined;
    try {
      await loop.waitFor((r) => r.ok && r.region === 'fra', 5000);
      await sleep(3000);
      const t0 = Date.now();
      restore = await stack.killRedis('fra');
      const moved = await loop.waitFor((r) => r.ok && r.region === 'iad' && r.t >= t0, 10_000);
      await loop.finished(30_000);
      const rs = loop.results;
      // A redis-cli connected to fra's redis when it died is cut, as the held connection below is:
      // TCP cannot be retried once bytes went through. Every other one gets its PONG.
      const cut = rs.filter((r) => r.t < t0 && r.t + r.ms >= t0);
      const failed = rs.filter((r) => !r.ok && !cut.includes(r));
      assert.equal(failed.length, 0, `${failed.length} of ${rs.length} redis-cli without PONG (${counts(countByRegion(rs))}); the first: ${describeAnswers(failed.slice(0, 10))}`);
      // Answered before the kill (one in flight at the kill may be answered by either).
      const before = rs.filter((r) => r.t + r.ms < t0);
      const later = rs.filter((r) => r.t > moved.t);
      assert.ok(before.length > 0, 'answers before the kill');
      assert.deepEqual(before.filter((r) => r.region !== 'fra').map((r) => `${r.region} at ${r.t - t0}+${r.ms} ms`), [], `answered before the kill: fra only (${counts(countByRegion(before))})`);
      assert.ok(later.length > 0 && later.every((r) => r.region === 'iad'), `after the first iad answer: iad only (${counts(countByRegion(later))})`);
      const heldResult = await held.result(20_000);
      const cutFailed = cut.filter((r) => !r.ok);
      figure(`(4) ${rs.length} redis-cli PING (new connection each, every 100 ms), fra's redis SIGKILLed after ${before.length}: ${counts(countByRegion(rs))}; ${cut.length} open at the kill (${cutFailed.length ? `${cutFailed.length} without PONG: ${describeAnswers(cutFailed)}` : 'PONG'}), every other PONG; first iad answer ${moved.t + moved.ms - t0} ms after the kill`);
      figure(`(4) one connection held across the kill (served by ${held.region ?? heldResult.region}): ${heldResult.broke ? `broke (${heldResult.error}) ${heldResult.t! - t0} ms after the kill` : 'still answering at its end'}, ${heldResult.pongs} PONG before`);
    } finally {
      await loop.stop();
      await held.process.stop('SIGTERM', 1000);
      if (restore) await restore();
    }
    await redisHealthy(['fra', 'iad']);
  });

  test('a caller outside fra\'s instance networks (the eu client, routed to 172.20.1.1) is refused: HTTP 403, and its redis connection is closed', async () => {
    const fra = lab.addresses.regions.fra;
    const route = [`${net('fra').prefix}`, 'via', fra.uplink.b.address];
    await lab.exec('eu', 'ip', ['route', 'add', ...route]);
    try {
      // The address answers the eu client (so what follows is the edge's refusal, not routing).
      await lab.exec('eu-client', 'ping', ['-c1', '-W2', net('fra').host]);
      const res = await stack.http('eu-client').request(`http://${net('fra').host}:${PORTS.meshHttp}/`, { headers: { host: 'echo.mesh' } });
      assert.equal(res.status, 403, `eu client (${lab.addresses.clients.eu.address}) at fra's mesh listener: ${res.status} ${res.body.slice(0, 300)}`);
      const { stdout, stderr } = await lab.exec('eu-client', 'redis-cli', ['-h', net('fra').host, '-p', String(REDIS_PORT)], { input: 'PING\n', timeoutMs: 10_000 });
      const redis = `${stdout}${stderr}`.trim();
      // The mesh TCP listener accepts and closes at once (a reset when redis-cli's PING had already arrived).
      assert.match(redis, /^Error: (Connection reset by peer|Server closed the connection)$/, `no PONG for the eu client: the connection closed, got: ${redis}`);
      // The same listener answers the workload meanwhile: the refusal is for the caller.
      const own = await lab.exec(workload, 'redis-cli', ['-h', net('fra').host, '-p', String(REDIS_PORT)], { input: 'PING\n', timeoutMs: 10_000 });
      assert.equal(own.stdout.trim(), 'PONG', `the workload at the same listener: ${own.stdout}${own.stderr}`);
      figure(`(5) eu client ${lab.addresses.clients.eu.address} -> ${net('fra').host}:80 Host echo.mesh: ${res.status} (${res.body.trim().slice(0, 120)}); redis-cli -> :${REDIS_PORT}: ${redis.split('\n')[0] || '(nothing: connection closed)'}`);
    } finally {
      await lab.exec('eu', 'ip', ['route', 'del', ...route]).catch(() => undefined);
    }
  });
});
