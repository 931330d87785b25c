// Who may send a proxy Report over the discovery port with TLS: a verified
// leaf of the region's edges or ingresses, for the proxy and mode it names
// only (certificates from test-support/pki-fixtures).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { makeLeaf, makeRoot, makeZone, TD } from '../../test-support/pki-fixtures';
import { ProxyAuth } from './proxy-auth';

// A call as grpc-js hands it over once the TLS stack verified the peer.
function callWith(certPem: string | undefined): { getAuthContext: () => { sslPeerCertificate?: PeerCertificate }; metadata: grpc.Metadata } {
  const x = certPem === undefined ? undefined : new X509Certificate(certPem);
  const sslPeerCertificate =
    x === undefined
      ? undefined
      : ({ raw: x.raw, issuer: Object.fromEntries(x.issuer.split('\n').map((l) => l.split('=') as [string, string])) } as unknown as PeerCertificate);
  return { getAuthContext: () => ({ sslPeerCertificate }), metadata: new grpc.Metadata() };
}

describe('proxy auth: Watch and Report', () => {
  const root = makeRoot();
  const fra = makeZone(root, 'fra');
  const auth = new ProxyAuth({ trustDomain: TD, region: 'fra', tokenSecret: 'secret-token-of-fra' });
  const edge1 = makeLeaf(fra, { role: 'edge', name: 'edge-1' }).certPem;
  const ingress1 = makeLeaf(fra, { role: 'ingress', name: 'ingress-1' }).certPem;

  it('takes a Watch or Report for the proxy and mode the leaf names', () => {
    assert.equal(auth.ownName(callWith(edge1), 'edge-1', 'edge'), undefined);
    assert.equal(auth.ownName(callWith(ingress1), 'ingress-1', 'ingress'), undefined);
  });

  it('refuses a report for another proxy: one leaf cannot replace another edge\'s health and mesh addresses', () => {
    const r = auth.ownName(callWith(edge1), 'edge-2', 'edge');
    assert.equal(r?.code, grpc.status.PERMISSION_DENIED);
    assert.match(r!.details, /leaf of spiffe:\/\/meridian\.local\/region\/fra\/edge\/edge-1 is for proxy "edge-1" in mode edge, not "edge-2"/);
  });

  it('refuses an ingress leaf reporting as an edge (mesh addresses for the zone DNS)', () => {
    const r = auth.ownName(callWith(ingress1), 'ingress-1', 'edge');
    assert.equal(r?.code, grpc.status.PERMISSION_DENIED);
  });

  it('refuses a call without a leaf', () => {
    assert.equal(auth.ownName(callWith(undefined), 'edge-1', 'edge')?.code, grpc.status.UNAUTHENTICATED);
  });
});

describe('proxy auth: certificate calls', () => {
  const root = makeRoot();
  const fra = makeZone(root, 'fra');
  const auth = new ProxyAuth({ trustDomain: TD, region: 'fra', tokenSecret: 'secret-token-of-fra' });
  const ingress1 = makeLeaf(fra, { role: 'ingress', name: 'ingress-1' }).certPem;
  const own = 'spiffe://meridian.local/region/fra/ingress/ingress-1';
  const other = 'spiffe://meridian.local/region/fra/edge/edge-9';
  const withToken = (call: ReturnType<typeof callWith>) => {
    call.metadata.set('authorization', 'Bearer secret-token-of-fra');
    return call;
  };

  it('renews a leaf\'s own identity with the leaf alone', () => {
    assert.equal(auth.issuance(callWith(ingress1), () => own), undefined);
  });

  it('refuses another identity asked with a leaf alone: an ingress leaf cannot mint an edge leaf', () => {
    const r = auth.issuance(callWith(ingress1), () => other);
    assert.equal(r?.code, grpc.status.PERMISSION_DENIED);
    assert.match(r!.details, /renews only its own identity: .*ingress\/ingress-1 cannot ask for .*edge\/edge-9/);
  });

  it('issues any proxy identity of the region with the token, and nothing without token or leaf', () => {
    assert.equal(auth.issuance(withToken(callWith(undefined)), () => other), undefined);
    assert.equal(auth.issuance(withToken(callWith(ingress1)), () => other), undefined);
    assert.equal(auth.issuance(callWith(undefined), () => own)?.code, grpc.status.UNAUTHENTICATED);
  });
});
