// A zone controller's own state and its discovery port against callers off
// the host, as real processes: GET /v1/state answers only callers on this
// host (403 with the reason otherwise; /healthz and /metrics stay open), and
// plaintext discovery (no --proxy-token-file) may only listen on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../lib/process/free-port';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { MERIDIAN_BIN } from './harness/repo-root';

// This host's non-loopback address: a connection made to it comes from it.
function otherAddress(): string {
  const address = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  assert.ok(address, 'this test needs a non-loopback IPv4 address on the host');
  return address;
}

describe('zone controller: local-only state and discovery', () => {
  const cp = new ControlPlane();
  let zone: ZoneProcess;

  before(async () => {
    await cp.start(1);
    const created = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir);
    // The same zone with its HTTP port on every address (the last --http wins).
    zone = new ZoneProcess('fra', created.ports, created.stateDir, cp.primary.grpcPort, path.join(cp.dir, 'fra.token'), cp.dir, ['--http', `0.0.0.0:${created.ports.http}`]);
    zone.start();
    await zone.waitUp();
  });
  after(async () => {
    await zone?.stop();
    await cp.stop();
  });

  it('answers /v1/state on loopback, 403 to another address; /healthz and /metrics stay open', async () => {
    const local = await fetch(`http://127.0.0.1:${zone.ports.http}/v1/state`);
    assert.equal(local.status, 200);
    assert.equal(((await local.json()) as { region: string }).region, 'fra');
    const host = otherAddress();
    const remote = await fetch(`http://${host}:${zone.ports.http}/v1/state`);
    assert.equal(remote.status, 403);
    assert.deepEqual(await remote.json(), { error: '/v1/state: only callers on this host may read this' });
    assert.equal((await fetch(`http://${host}:${zone.ports.http}/healthz`)).status, 200);
    assert.equal((await fetch(`http://${host}:${zone.ports.http}/metrics`)).status, 200);
  });

  it('refuses to start plaintext discovery off loopback, naming --proxy-token-file', async () => {
    const grpc = `0.0.0.0:${await freePort()}`;
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [
        MERIDIAN_BIN(), 'zone-controller', '--region', 'iad', '--global', `127.0.0.1:${cp.primary.grpcPort}`, '--join-token', 'mzt1.x.y',
        '--state-dir', path.join(cp.dir, 'state-iad'), '--http', '127.0.0.1:0', '--grpc', grpc,
      ], { timeout: 20_000 }, (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
    });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`--grpc ${grpc}: discovery off loopback needs --proxy-token-file FILE`));
  });
});
