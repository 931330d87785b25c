// A zone controller's own state and its discovery port, as real processes:
// GET /v1/state answers callers on this host, and plaintext discovery (no
// --proxy-token-file) may only listen on loopback. The refusal of a caller
// on another host is decided by lib/auth/local-admin-access.ts (its unit
// tests) and seen from another node of the network lab
// (netns-tests/bootstrap.test.ts): a test here may only send to loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { freePort } from '../lib/process/free-port';
import { ControlPlane } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { MERIDIAN_BIN } from '../test-support/repo-root';

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

  it('answers /v1/state, /healthz and /metrics to a caller on this host', async () => {
    const local = await fetch(`http://127.0.0.1:${zone.ports.http}/v1/state`);
    assert.equal(local.status, 200);
    assert.equal(((await local.json()) as { region: string }).region, 'fra');
    assert.equal((await fetch(`http://127.0.0.1:${zone.ports.http}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${zone.ports.http}/metrics`)).status, 200);
  });

  it('refuses to start plaintext discovery off loopback, naming --proxy-token-file', async () => {
    const grpc = `0.0.0.0:${await freePort()}`;
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [
        MERIDIAN_BIN(), 'zone-controller', '--region', 'iad', '--global', `127.0.0.1:${cp.primary.grpcPort}`, '--join-token', 'mzt1.placeholder.placeholder',
        '--state-dir', path.join(cp.dir, 'state-iad'), '--http', '127.0.0.1:0', '--grpc', grpc,
      ], { timeout: 20_000 }, (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
    });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`--grpc ${grpc}: discovery off loopback needs --proxy-token-file FILE`));
  });
});
