// The federation port is TLS only: a joining zone pins the root by the
// fingerprint in its join token, a joined zone comes back over mTLS with its
// zone leaf, and the global controller holds the leaf's region to the Hello's.
// Real global controller and zone controller processes on a real etcd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MERIDIAN_BIN } from '../test-support/repo-root';
import { ControlPlane } from './harness/global-controller-process';
import { FederationTestClient } from './harness/federation-test-client';
import { ZoneProcess } from './harness/zone-process';
import { waitFor } from './harness/child-process';
import { federationProto } from '../lib/grpc/protos';
import { fetchPinnedRoot, PinnedRootError } from '../lib/grpc/pinned-root';
import { peekJoinToken } from '../lib/auth/join-token-payload';
import { createCsr, formatIdentity, generateKeyPairAsync, issueZoneLeaf, readCertificate } from '../lib/pki';

const TD = 'meridian.local';

describe('control-stream TLS: federation', () => {
  const cp = new ControlPlane();
  const clients: FederationTestClient[] = [];
  const address = () => `127.0.0.1:${cp.primary.grpcPort}`;
  const client = (options?: ConstructorParameters<typeof FederationTestClient>[1]) => {
    const c = new FederationTestClient(address(), options);
    clients.push(c);
    return c;
  };

  before(async () => {
    await cp.start(1);
  });
  after(async () => {
    for (const c of clients) c.close();
    await cp.stop();
  });

  it('refuses to start without --data-key-file, naming the flag and how to make a key', async () => {
    const run = spawnSync(process.execPath, [MERIDIAN_BIN(), 'global-controller', '--etcd', cp.etcd.endpoint, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
      env: { ...process.env, MERIDIAN_ADMIN_TOKEN: 'x'.repeat(32) },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--data-key-file FILE is required: .*head -c 32 \/dev\/urandom/);
  });

  it('join tokens carry the active root fingerprint, and the port presents that root', async () => {
    const token = await cp.token('fra');
    const { rootFingerprint } = peekJoinToken(token);
    assert.match(rootFingerprint ?? '', /^sha256:[0-9a-f]{64}$/);
    const root = await fetchPinnedRoot(address(), rootFingerprint!);
    assert.equal(root.trim(), (await cp.api('GET', '/v1/ca')).body.trustBundle[0].trim());
    await assert.rejects(fetchPinnedRoot(address(), `sha256:${'0'.repeat(64)}`), PinnedRootError, 'a server without the pinned root is refused');
  });

  it('a plaintext client cannot talk to the federation port', async () => {
    const Federation = federationProto().meridian.federation.v1.Federation;
    const plain = new Federation(address(), grpc.credentials.createInsecure());
    const call = plain.Sync();
    const received: unknown[] = [];
    call.on('data', (m: unknown) => received.push(m));
    call.on('error', () => undefined);
    const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write({ hello: { region: 'fra', joinToken: await cp.token('fra') } });
    const status = await ended;
    plain.close();
    assert.equal(status.code, grpc.status.UNAVAILABLE, status.details);
    assert.equal(received.length, 0);
  });

  it('over TLS without a client certificate, a forged join token is refused with UNAUTHENTICATED', async () => {
    const c = client();
    c.open({ region: 'fra', joinToken: (await cp.token('fra')).replace(/.{4}$/, 'AAAA') });
    const status = await c.ended();
    assert.equal(status.code, grpc.status.UNAUTHENTICATED, status.details);
    assert.equal(c.received.length, 0);
  });

  it('a zone leaf authenticates a later Hello without a token; a leaf of another region is refused', async () => {
    // Join as fra with a CSR, as a zone controller does; sign a zone leaf with the zone CA.
    const caKey = (await generateKeyPairAsync()).privateKeyPem;
    const joining = client();
    joining.open({
      region: 'fra',
      joinToken: await cp.token('fra'),
      zoneCaCsr: createCsr({ keyPem: caKey, identity: formatIdentity({ trustDomain: TD, region: 'fra', role: 'zone', name: 'fra' }) }),
    });
    const { zoneCa } = (await joining.next((m) => m.message === 'welcome')).welcome!;
    joining.close();
    const leafKey = await generateKeyPairAsync();
    const leaf = issueZoneLeaf({ caCertPem: zoneCa!.certificate, caKeyPem: caKey, publicKeyPem: leafKey.publicKeyPem, trustDomain: TD, lifetimeMs: 3600_000 });
    assert.equal(readCertificate(leaf.certPem).identity, 'spiffe://meridian.local/region/fra/zone/fra');
    const clientCertificate = { certChainPem: leaf.certPem + zoneCa!.certificate, keyPem: leafKey.privateKeyPem };
    const trust = { rootsPem: zoneCa!.trustBundle, trustDomain: TD, clientCertificate };

    const mutual = client(trust);
    mutual.open({ region: 'fra', joinToken: '' });
    const welcome = await mutual.next((m) => m.message === 'welcome');
    assert.equal(welcome.welcome!.region, 'fra', 'the certificate stands in for the token');
    mutual.close();

    const impostor = client(trust);
    impostor.open({ region: 'iad', joinToken: await cp.token('iad') });
    const status = await impostor.ended();
    assert.equal(status.code, grpc.status.PERMISSION_DENIED, status.details);
    assert.match(status.details, /region fra, not iad/);
    assert.equal(impostor.received.length, 0);
  });

  it('a zone controller comes back over mTLS after its join, and after a restart with an expired token', async () => {
    const z = await ZoneProcess.create('sin', cp.primary.grpcPort, await cp.token('sin', '8s'), cp.dir);
    const started = Date.now();
    z.start();
    try {
      await z.waitUp(true);
      const state = await waitFor('federation over mTLS', async () => {
        const s = (await (await fetch(`${z.url}/v1/state`)).json()) as { federated: boolean; federationTls: { clientCertificate: boolean } };
        return s.federated && s.federationTls.clientCertificate ? s : undefined;
      });
      assert.equal(state.federationTls.clientCertificate, true);
      console.log(`# zone joined and came back over mTLS in ${Date.now() - started} ms`);
      await z.stop();
      await new Promise((r) => setTimeout(r, Math.max(0, started + 8500 - Date.now())));
      z.start();
      await z.waitUp(true);
      assert.match(z.tail(), /zone leaf issued/);
      // grpc-js would send the IP it dials as the TLS server name; Node warns of that.
      assert.doesNotMatch(fs.readFileSync(z.logFile, 'utf8'), /DEP0123|TLS ServerName/);
    } finally {
      await z.stop();
    }
  });

  it('a zone restarting with a valid zone CA keeps it and rejoins over mTLS at once; one without gets a new CA at join', async () => {
    const z = await ZoneProcess.create('lis', cp.primary.grpcPort, await cp.token('lis'), cp.dir);
    const certFile = path.join(z.stateDir, 'zone-ca', 'cert.pem');
    const issuedToLis = () => fs.readFileSync(cp.primary.logFile, 'utf8').split('\n').filter((l) => l.includes('"zone CA issued"') && l.includes('"region":"lis"')).length;
    const mutualState = () =>
      waitFor('federation over mTLS', async () => {
        const s = (await (await fetch(`${z.url}/v1/state`)).json()) as { federated: boolean; federationTls: { clientCertificate: boolean } };
        return s.federated && s.federationTls.clientCertificate ? s : undefined;
      });
    try {
      z.start();
      await mutualState();
      // The first stream keeps its snapshot and regions view; the mTLS rejoin comes after them.
      const joinLog = await waitFor('the mTLS rejoin', () => {
        const log = fs.readFileSync(z.logFile, 'utf8');
        return log.includes('reconnecting to the global controller with new TLS credentials') ? log : undefined;
      }, 15_000);
      const at = (msg: string) => joinLog.indexOf(`"msg":"${msg}"`);
      assert.ok(at('applied a snapshot') > 0 && at('applied the full regions view') > 0, 'snapshot and regions view applied');
      assert.ok(at('applied a snapshot') < at('reconnecting to the global controller with new TLS credentials'));
      assert.ok(at('applied the full regions view') < at('reconnecting to the global controller with new TLS credentials'));
      await waitFor('joined again over mTLS', () => (fs.readFileSync(z.logFile, 'utf8').split('"msg":"joined the global controller"').length === 3 ? true : undefined), 10_000);
      const firstSerial = readCertificate(fs.readFileSync(certFile, 'utf8')).serial;
      assert.equal(issuedToLis(), 1, 'one zone CA for the first join (the mTLS rejoin asks for none)');
      await z.stop();

      const logBefore = fs.readFileSync(z.logFile, 'utf8').length;
      z.start();
      await mutualState();
      const restartLog = fs.readFileSync(z.logFile, 'utf8').slice(logBefore);
      assert.equal(readCertificate(fs.readFileSync(certFile, 'utf8')).serial, firstSerial, 'the saved zone CA is kept');
      assert.equal(issuedToLis(), 1, 'no zone CA signed for the restart');
      assert.doesNotMatch(restartLog, /reconnecting to the global controller with new TLS credentials/, 'the first stream after the restart is mTLS');
      await z.stop();

      // Without its certificate the zone joins on a token again: a new one (the first is spent).
      fs.rmSync(certFile);
      z.useToken(await cp.token('lis'));
      z.start();
      await mutualState();
      assert.notEqual(readCertificate(fs.readFileSync(certFile, 'utf8')).serial, firstSerial, 'a zone without its certificate gets a new one');
      assert.equal(issuedToLis(), 2);
    } finally {
      await z.stop();
    }
  });
});
