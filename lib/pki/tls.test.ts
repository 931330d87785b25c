// The certificates in Node's real TLS: an ingress (server) and an edge
// (client) authenticate each other with mesh leaves, as on the backhaul.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { RootCa } from './certificate-authority';
import { DAY_MS, HOUR_MS, makeLeaf, makeRoot, makeZone, TD, type Leaf, type Zone } from '../../test-support/pki-fixtures';
import { matchIdentityPattern } from './identity';
import { verifyChain } from './verify';

interface Party {
  key: string;
  cert: string; // leaf + zone CA
  ca: string[];
}

interface Outcome {
  serverSawPeer?: string; // subjectaltname of the client, as the server sees it
  serverChecked?: ReturnType<typeof verifyChain>;
  // Why the server dropped the client: Node's TLS server verifies the client
  // after the handshake and only destroys the socket, so the reason is on it.
  serverRefused?: string;
  clientSawPeer?: string;
  clientError?: NodeJS.ErrnoException;
  reply?: string;
}

async function handshake(server: Party, client: Party, rootPem: string): Promise<Outcome> {
  const outcome: Outcome = {};
  let serverDone!: () => void;
  const serverSettled = new Promise<void>((resolve) => (serverDone = resolve));
  const ingress = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: true }, (socket) => {
    const peer = socket.getPeerCertificate(true);
    outcome.serverSawPeer = peer.subjectaltname;
    // The ingress-side check on top of TLS: the caller's identity from the chain it sent.
    outcome.serverChecked = verifyChain({ leafPem: peer.raw, chainPems: [peer.issuerCertificate.raw], rootPems: [rootPem] });
    socket.end('hello from the ingress');
    serverDone();
  });
  ingress.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    outcome.serverRefused = String(socket.authorizationError ?? err.code);
    serverDone();
  });
  await new Promise<void>((resolve) => ingress.listen(0, '127.0.0.1', resolve));
  const { port } = ingress.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    const socket = tls.connect({ ...client, host: '127.0.0.1', port, servername: 'in-1.fra.mesh.internal' });
    let reply = '';
    socket.on('secureConnect', () => (outcome.clientSawPeer = socket.getPeerCertificate().subjectaltname));
    socket.on('data', (chunk) => (reply += chunk));
    socket.on('end', () => (outcome.reply = reply));
    socket.on('error', (err) => (outcome.clientError = err));
    socket.on('close', () => resolve());
  });
  await serverSettled;
  await new Promise((resolve) => ingress.close(resolve));
  return outcome;
}

describe('mesh certificates in Node TLS', () => {
  let root: RootCa;
  let fra: Zone;
  let iad: Zone;
  let ingress: Leaf;
  let edge: Leaf;
  const party = (leaf: Leaf, trust: RootCa = root): Party => ({ key: leaf.keyPem, cert: leaf.chainPem, ca: [trust.certPem] });

  before(() => {
    // Made a day ago, so a leaf can be issued in the past and have expired by now.
    const yesterday = new Date(Date.now() - DAY_MS);
    root = makeRoot(yesterday);
    fra = makeZone(root, 'fra', { now: yesterday });
    iad = makeZone(root, 'iad', { now: yesterday });
    ingress = makeLeaf(fra, { role: 'ingress', name: 'in-1', dnsNames: ['in-1.fra.mesh.internal'] });
    edge = makeLeaf(iad, { role: 'edge', name: 'e-1' });
  });

  it('mutual TLS works and each side sees the other\u2019s SPIFFE ID', async () => {
    const outcome = await handshake(party(ingress), party(edge), root.certPem);
    assert.equal(outcome.clientError, undefined);
    assert.equal(outcome.serverRefused, undefined);
    assert.equal(outcome.reply, 'hello from the ingress');
    assert.equal(outcome.serverSawPeer, `URI:spiffe://${TD}/region/iad/edge/e-1`);
    assert.equal(outcome.clientSawPeer, `URI:spiffe://${TD}/region/fra/ingress/in-1, DNS:in-1.fra.mesh.internal`);
    assert.equal(outcome.serverChecked?.ok && outcome.serverChecked.identity, `spiffe://${TD}/region/iad/edge/e-1`);
    assert.equal(matchIdentityPattern(`spiffe://${TD}/region/*/edge/*`, `spiffe://${TD}/region/iad/edge/e-1`), true);
  });

  it('a client certificate from another CA is refused', async () => {
    const otherRoot = makeRoot();
    const stranger = makeLeaf(makeZone(otherRoot, 'iad'), { name: 'e-1' });
    // the stranger trusts our root, so only the server's check can stop it
    const outcome = await handshake(party(ingress), party(stranger, root), root.certPem);
    assert.equal(outcome.serverRefused, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    assert.equal(outcome.serverSawPeer, undefined);
    assert.ok(!outcome.reply, 'the ingress must not have answered');
  });

  it('an expired client certificate is refused', async () => {
    const expired = makeLeaf(iad, { name: 'e-old', now: new Date(Date.now() - 3 * HOUR_MS), lifetimeMs: HOUR_MS });
    assert.ok(expired.notAfter.getTime() < Date.now());
    const outcome = await handshake(party(ingress), party(expired), root.certPem);
    assert.equal(outcome.serverRefused, 'CERT_HAS_EXPIRED');
    assert.equal(outcome.serverSawPeer, undefined);
    assert.ok(!outcome.reply, 'the ingress must not have answered');
  });

  it('the client refuses an ingress from another CA', async () => {
    const otherRoot = makeRoot();
    const fake = makeLeaf(makeZone(otherRoot, 'fra'), { role: 'ingress', name: 'in-1', dnsNames: ['in-1.fra.mesh.internal'] });
    const outcome = await handshake(party(fake, otherRoot), party(edge), otherRoot.certPem);
    assert.equal(outcome.clientError?.code, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    assert.ok(!outcome.reply, 'the ingress must not have answered');
  });

});
