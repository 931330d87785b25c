// No secret at rest in the clear, with real processes: etcd, the global
// controller, a zone controller (discovery on mTLS with a proxy token) and
// an edge serving a Certificate resource by SNI. What etcd holds and what the
// zone writes under its state dir are scanned raw; a restarted zone opens its
// sealed zone CA key with its state key and gets the Certificate's key again
// from the global controller; a sealed value moved to another record in etcd
// does not open, and the global controller withholds it and keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { X509Certificate, randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { ControlPlane, GlobalControllerProcess } from './harness/global-controller-process';
import { ZoneProcess } from './harness/zone-process';
import { FederationTestClient } from './harness/federation-test-client';
import { PartProcess, waitFor } from './harness/child-process';
import { freePort } from '../lib/process/free-port';
import { createSelfSignedCertificate, loadDataKey, openSecret } from '../lib/pki';
import { createProxyToken } from '../lib/auth/proxy-token';
import { peekJoinToken } from '../lib/auth/join-token-payload';

const JOIN_KEY = '/meridian/system/join-signing-key';
const CERTIFICATE_KEY = '/meridian/resources/Certificate/api';

// The fingerprint of the certificate a TLS server presents for `servername`, or why there is none.
function servedFingerprint(address: string, servername: string): Promise<string> {
  const port = Number(address.split(':').pop());
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? 'no certificate');
      s.destroy();
    });
    s.once('error', (err) => resolve(`error: ${err.message}`));
  });
}

// Every file under dir, with its content.
function filesUnder(dir: string): { file: string; text: string }[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .map((file) => ({ file, text: fs.readFileSync(file, 'latin1') }));
}

describe('secrets at rest', () => {
  const cp = new ControlPlane();
  let zone: ZoneProcess;
  const proxies: PartProcess[] = [];
  let edgeHttps = '';
  let cert: { certPem: string; keyPem: string; fingerprint: string; keyBody: string };
  let proxyTokenFile = '';
  // The edge's default certificate (--https needs one): served for any other name.
  let defaultCert: string[] = [];
  const etcd = () => new Etcd3({ hosts: cp.etcd.endpoint });
  const certificateDoc = () => ({
    apiVersion: 'meridian.dev/v1',
    kind: 'Certificate',
    metadata: { name: 'api' },
    spec: { hosts: ['api.example.com'], certificate: cert.certPem, privateKey: cert.keyPem },
  });
  const zoneState = async (z = zone) =>
    (await (await fetch(`${z.url}/v1/state`, { signal: AbortSignal.timeout(2000) })).json()) as { federated: boolean; resources: string[]; federationTls: { clientCertificate: boolean } };
  const zoneCasIssued = () => fs.readFileSync(cp.primary.logFile, 'utf8').split('\n').filter((l) => l.includes('"zone CA issued"') && l.includes('"region":"fra"')).length;

  async function startEdge(name: string, https: string): Promise<PartProcess> {
    const edge = new PartProcess(name, [
      'edge', '--mode', 'edge', '--region', 'fra', '--zone', zone.discoveryAddress, '--name', name, '--zone-token-file', proxyTokenFile,
      '--https', https, ...defaultCert, '--admin', `127.0.0.1:${await freePort()}`, '--access-log-sample', '0',
    ], cp.dir);
    proxies.push(edge);
    return edge;
  }

  async function edgeServes(address: string, edge: PartProcess, what: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(what, async () => {
      if (!edge.running) throw new Error(`${edge.name} exited:\n${edge.tail(30)}`);
      return (await servedFingerprint(address, 'api.example.com')) === cert.fingerprint || undefined;
    }, timeoutMs, 200).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- ${edge.name} ---\n${edge.tail(30)}\n--- zone ---\n${zone.tail(30)}`);
    });
  }

  function assertNoKeyIn(where: string, text: string): void {
    assert.doesNotMatch(text, /PRIVATE KEY/, `${where} holds a PEM private key`);
    assert.ok(!text.includes(cert.keyBody), `${where} holds the body of the applied key`);
  }

  before(async () => {
    await cp.start(1);
    const made = await createSelfSignedCertificate({ commonName: 'api.example.com', dnsNames: ['api.example.com'] });
    // A line from the middle of the key's base64 body: found in any encoding of the key that is not sealed.
    const bodyLines = made.keyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    cert = { ...made, fingerprint: new X509Certificate(made.certPem).fingerprint256, keyBody: bodyLines[Math.floor(bodyLines.length / 2)]! };
    assert.equal((await cp.api('POST', '/v1/apply', [certificateDoc()])).status, 200);

    const fallback = await createSelfSignedCertificate({ commonName: 'default.invalid', dnsNames: ['default.invalid'] });
    defaultCert = ['--cert', path.join(cp.dir, 'default.crt'), '--key', path.join(cp.dir, 'default.key')];
    fs.writeFileSync(defaultCert[1]!, fallback.certPem);
    fs.writeFileSync(defaultCert[3]!, fallback.keyPem, { mode: 0o600 });
    const token = await cp.token('fra');
    proxyTokenFile = path.join(cp.dir, 'fra.proxy-token');
    fs.writeFileSync(proxyTokenFile, createProxyToken(peekJoinToken(token).rootFingerprint!), { mode: 0o600 });
    zone = await ZoneProcess.create('fra', cp.primary.grpcPort, token, cp.dir, ['--proxy-token-file', proxyTokenFile]);
    zone.start();
    await zone.waitUp(true);
    edgeHttps = `127.0.0.1:${await freePort()}`;
    const edge = await startEdge('edge-fra', edgeHttps);
    edge.start();
    await edgeServes(edgeHttps, edge, 'the edge to serve the Certificate by SNI');
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await zone?.stop();
    await cp.stop();
  });

  it('etcd holds no private key and the join signing key only sealed', async () => {
    const client = etcd();
    const all = await client.getAll().prefix('').strings();
    client.close();
    assert.ok(all[CERTIFICATE_KEY], 'the Certificate is stored');
    for (const [key, value] of Object.entries(all)) assertNoKeyIn(`etcd ${key}`, value);
    const joinKey = JSON.parse(all[JOIN_KEY]!) as Record<string, unknown>;
    assert.equal(joinKey.v, 2);
    assert.equal(joinKey.purpose, 'join-signing-key');
    assert.equal(joinKey.record, 'join-signing-key');
    assert.equal(typeof joinKey.ciphertext, 'string');
  });

  it('the zone writes no private key under its state dir; its CA key is sealed', async () => {
    await zone.stop(); // flushes its state files
    const files = filesUnder(zone.stateDir);
    assert.ok(files.some((f) => f.file.endsWith('global-state.json') && f.text.includes('"Certificate"')), 'the state holds the Certificate');
    assert.ok(files.some((f) => f.file.endsWith(path.join('zone-ca', 'key.sealed'))), 'the zone CA key is kept sealed');
    for (const f of files) assertNoKeyIn(f.file, f.text);
  });

  it('a restarted zone opens its CA key with its state key, rejoins over mTLS and gets the Certificate key again; its edge keeps serving', async () => {
    assert.equal(zoneCasIssued(), 1);
    zone.start();
    await waitFor('the restarted zone federated over mTLS', async () => {
      const s = await zoneState().catch(() => undefined);
      return (s?.federated && s.federationTls.clientCertificate) || undefined;
    }, 30_000);
    assert.equal(zoneCasIssued(), 1, 'no new zone CA: the sealed key opened');
    assert.equal(await servedFingerprint(edgeHttps, 'api.example.com'), cert.fingerprint, 'the edge kept the Certificate across the zone restart');
    // A proxy that was never connected gets the Certificate only from a zone that holds its key again.
    const second = `127.0.0.1:${await freePort()}`;
    const fresh = await startEdge('edge-fra-2', second);
    fresh.start();
    await edgeServes(second, fresh, 'a new edge to get the Certificate from the restarted zone');
    await fresh.stop();
    assert.equal(await servedFingerprint(edgeHttps, 'api.example.com'), cert.fingerprint);
  });

  it('a zone given another state key refuses to start, saying why', async () => {
    await zone.stop();
    const wrongKey = path.join(cp.dir, 'wrong.state.key');
    fs.writeFileSync(wrongKey, randomBytes(32).toString('base64'), { mode: 0o600 });
    const wrong = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir, ['--proxy-token-file', proxyTokenFile, '--state-key-file', wrongKey]);
    assert.equal(wrong.stateDir, zone.stateDir);
    wrong.start();
    await waitFor('the zone with the wrong state key to exit', async () => (!wrong.running ? true : undefined), 20_000, 100);
    assert.match(wrong.tail(), /the state key does not open the zone CA key of region fra in \S*key\.sealed/);
    zone.start();
    await zone.waitUp(true);
  });

  it("a Certificate holding the root's sealed key (copied in etcd) never reaches a zone; the global controller says which and keeps serving", async () => {
    const client = etcd();
    try {
      const roots = await client.getAll().prefix('/meridian/system/ca/roots/').strings();
      const rootSealed = JSON.parse(Object.values(roots)[0]!).sealedKey;
      const stored = JSON.parse((await client.get(CERTIFICATE_KEY).string())!);
      stored.spec.sealedPrivateKey = rootSealed;
      await client.put(CERTIFICATE_KEY).value(JSON.stringify(stored));
    } finally {
      client.close();
    }
    await waitFor('the zone to drop the Certificate', async () => ((await zoneState()).resources.includes('Certificate/api') ? undefined : true), 20_000);
    await waitFor('the edge to stop serving it', async () => ((await servedFingerprint(edgeHttps, 'api.example.com')) !== cert.fingerprint) || undefined, 20_000);
    const log = fs.readFileSync(cp.primary.logFile, 'utf8');
    assert.match(log, /"certificate":"api".*sealed value belongs to root-ca-key root\/[^ ]* not certificate-key Certificate\/api.*Certificate api is not sent to zones/);
    assert.doesNotMatch(log, /PRIVATE KEY/);
    // Still serving: healthy, the zone federated, and a new zone gets a snapshot without it.
    assert.equal((await cp.primary.health()).ok !== false, true);
    assert.equal((await zoneState()).federated, true);
    const other = new FederationTestClient(`127.0.0.1:${cp.primary.grpcPort}`);
    try {
      other.open({ region: 'sin', joinToken: await cp.token('sin') });
      const snapshot = (await other.next((m) => m.message === 'snapshot')).snapshot!;
      assert.equal(snapshot.resources.some((r) => r.kind === 'Certificate'), false, 'withheld from the snapshot');
      for (const r of snapshot.resources) assertNoKeyIn(`the snapshot's ${r.kind}/${r.name}`, Buffer.from(r.document).toString('utf8'));
    } finally {
      other.close();
    }
    // Applied again with its key, it goes out again.
    assert.equal((await cp.api('POST', '/v1/apply', [certificateDoc()])).status, 200);
    await edgeServes(edgeHttps, proxies[0]!, 'the edge to serve the Certificate applied again');
  });

  it('a join signing key moved from another record does not open: a replica says why, keeps running, and makes no token', async () => {
    const client = etcd();
    const original = (await client.get(JOIN_KEY).string())!;
    const roots = await client.getAll().prefix('/meridian/system/ca/roots/').strings();
    await client.put(JOIN_KEY).value(JSON.stringify(JSON.parse(Object.values(roots)[0]!).sealedKey));
    const replica = new GlobalControllerProcess(await freePort(), await freePort(), cp.etcd.endpoint, cp.dir, 'gc-moved-join-key');
    try {
      replica.start();
      await replica.ready();
      await waitFor('the replica to say why', async () => (/zones cannot join: the join signing key does not open/.test(replica.tail()) ? true : undefined), 20_000, 100);
      assert.match(replica.tail(), /join signing key stored at \/meridian\/system\/join-signing-key does not open with this data key \(sealed value belongs to root-ca-key/);
      const made = await cp.api('POST', '/v1/tokens', { region: 'fra', ttl: '1h' }, undefined, replica);
      assert.notEqual(made.status, 200, 'no join token from a key that does not open');
      assert.doesNotMatch(JSON.stringify(made.body), /"token"/);
      assert.equal(replica.running, true, 'it keeps running');
      assert.equal((await replica.health()).storeWarm, true);
    } finally {
      await replica.stop();
      await client.put(JOIN_KEY).value(original);
      client.close();
    }
  });

  it('a join signing key left in the clear by an older version is sealed in place by the next replica to start', async () => {
    const client = etcd();
    const original = (await client.get(JOIN_KEY).string())!;
    const clear = randomBytes(32).toString('base64');
    await client.put(JOIN_KEY).value(clear);
    const replica = new GlobalControllerProcess(await freePort(), await freePort(), cp.etcd.endpoint, cp.dir, 'gc-clear-join-key');
    try {
      replica.start();
      await replica.ready();
      const sealed = await waitFor('the key sealed in place', async () => {
        const value = (await client.get(JOIN_KEY).string())!;
        return value === clear ? undefined : value;
      }, 20_000, 100);
      assert.ok(!sealed.includes(clear));
      const dataKey = loadDataKey(path.join(cp.dir, 'data.key'));
      assert.equal(openSecret(sealed, dataKey, { purpose: 'join-signing-key', record: 'join-signing-key' }), clear, 'the same key, now sealed');
      assert.equal((await cp.api('POST', '/v1/tokens', { region: 'fra', ttl: '1h' }, undefined, replica)).status, 200);
    } finally {
      await replica.stop();
      await client.put(JOIN_KEY).value(original);
      client.close();
    }
  });
});
