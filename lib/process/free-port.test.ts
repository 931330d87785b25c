import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { freePort } from './free-port';

describe('freePort', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-free-port-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hands out ports below the ephemeral range by default, each one bindable', async () => {
    const port = await freePort({ reservationDir: dir });
    const [ephemeralLow] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    assert.ok(port >= 20000 && port < ephemeralLow, `port ${port} is below ${ephemeralLow}`);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', resolve);
    });
    srv.close();
  });

  it('never hands out the same port twice, even to concurrent callers', async () => {
    const opts = { reservationDir: dir, low: 24100, high: 24139 };
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort(opts)));
    assert.equal(new Set(ports).size, 20);
  });

  it('does not hand out a port reserved by another process', async () => {
    fs.writeFileSync(path.join(dir, '24150'), '1');
    fs.writeFileSync(path.join(dir, '24151'), '1');
    await assert.rejects(freePort({ reservationDir: dir, low: 24150, high: 24151 }), /no free loopback port in 24150-24151/);
  });

  it('skips a port something is listening on', async () => {
    // Below the ephemeral range, where no outgoing connection takes the
    // second port of the pair meanwhile (one from listen(0) could be).
    const busy = net.createServer();
    let taken = 0;
    for (let p = 24300; p < 24398 && taken === 0; p += 2) {
      if ((await listenOn(busy, p)) && (await bindable(p + 1))) taken = p;
      else if (busy.listening) await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
    assert.notEqual(taken, 0, 'no free pair of ports in 24300-24399');
    try {
      const port = await freePort({ reservationDir: dir, low: taken, high: taken + 1 });
      assert.equal(port, taken + 1);
    } finally {
      busy.close();
    }
  });

  it('takes over a reservation left behind over an hour ago, but not a fresh one', async () => {
    const opts = { reservationDir: dir, low: 24200, high: 24200 };
    fs.writeFileSync(path.join(dir, '24200'), '1');
    await assert.rejects(freePort(opts), /no free loopback port/);
    const old = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(path.join(dir, '24200'), old, old);
    assert.equal(await freePort(opts), 24200);
  });
});

function listenOn(server: net.Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = () => resolve(false);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve(true);
    });
  });
}

async function bindable(port: number): Promise<boolean> {
  const probe = net.createServer();
  if (!(await listenOn(probe, port))) return false;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return true;
}
