// gRPC TLS credentials of the control streams (federation, discovery).
//
// Clients trust the mesh roots only and check the server by its SPIFFE
// identity (./mesh-peer.ts), not by host name: the same check works whatever
// address a zone or proxy dials. Servers ask for a client certificate but do
// not require one at the handshake (grpc-js: certificate-provider credentials
// with requireClientCertificate false), because a first join or a proxy's
// first certificate request has none yet; each call then decides with
// verifiedPeer() whether the certificate it needs was presented and verified.
// Certificates and roots can be swapped while serving (renewal, rotation).
import * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { checkMeshPeer, type MeshPeerCheck, type MeshPeerExpectation } from './mesh-peer';

export interface MeshTlsMaterial {
  // The mesh roots to trust (every unexpired one during a rotation).
  rootsPem: string[];
  // This side's certificate (leaf first, then its issuing CA) and key.
  certChainPem?: string;
  keyPem?: string;
}

export function meshChannelCredentials(material: MeshTlsMaterial, server: MeshPeerExpectation): grpc.ChannelCredentials {
  const key = material.keyPem ? Buffer.from(material.keyPem) : null;
  const chain = material.certChainPem ? Buffer.from(material.certChainPem) : null;
  return grpc.credentials.createSsl(Buffer.from(material.rootsPem.join('')), key, chain, { checkServerIdentity: checkServer(server) });
}

// Channel options for a mesh TLS channel to `address`. grpc-js sends the
// dialled host as the TLS server name, and Node warns (DEP0123, in every
// zone's and edge's log) when that is an IP address, as tunnel and loopback
// addresses are. The server is checked by its SPIFFE identity, never by
// name, so a fixed name that says what it is does instead.
export const MESH_TLS_SERVER_NAME = 'meridian-mesh.invalid';
export function meshChannelOptions(address: string): grpc.ChannelOptions {
  return isIP(hostOf(address)) ? { 'grpc.ssl_target_name_override': MESH_TLS_SERVER_NAME } : {};
}

// host:port, [v6]:port or a bare host -> the host.
function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colons = address.split(':').length - 1;
  return colons === 1 ? address.slice(0, address.indexOf(':')) : address;
}

// In place of the host name check: the server's mesh identity.
function checkServer(server: MeshPeerExpectation): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const check = checkMeshPeer(cert, server);
    return check.ok ? undefined : new Error(`the server is not the expected mesh peer: ${check.reason}`);
  };
}

// An in-memory certificate provider that grpc-js watches for changes. A new
// listener hears the current material on the next tick: grpc-js registers its
// own watcher only after adding the listeners.
class MemoryCertificateProvider implements grpc.experimental.CertificateProvider {
  private ca: grpc.experimental.CaCertificateUpdate | null = null;
  private identity: grpc.experimental.IdentityCertificateUpdate | null = null;
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();

  set(material: MeshTlsMaterial): void {
    if (!material.certChainPem || !material.keyPem) throw new Error('a TLS server needs a certificate and a key');
    this.ca = { caCertificate: Buffer.from(material.rootsPem.join('')) };
    this.identity = { certificate: Buffer.from(material.certChainPem), privateKey: Buffer.from(material.keyPem) };
    for (const l of this.caListeners) l(this.ca);
    for (const l of this.identityListeners) l(this.identity);
  }

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    setImmediate(() => this.ca && this.caListeners.has(listener) && listener(this.ca));
  }
  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    setImmediate(() => this.identity && this.identityListeners.has(listener) && listener(this.identity));
  }
  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }
}

export class MeshServerCredentials {
  private readonly provider = new MemoryCertificateProvider();
  readonly credentials: grpc.ServerCredentials = grpc.experimental.createCertificateProviderServerCredentials(this.provider, this.provider, false);

  // New handshakes use the new material; established connections keep theirs.
  update(material: MeshTlsMaterial): void {
    this.provider.set(material);
  }
}

// Client credentials whose certificate and roots can change (renewal): new
// connections use the latest; set them before the first call.
export class MeshClientCredentials {
  private readonly provider = new MemoryCertificateProvider();
  readonly credentials: grpc.ChannelCredentials;

  constructor(server: MeshPeerExpectation) {
    this.credentials = grpc.experimental.createCertificateProviderChannelCredentials(this.provider, this.provider, { checkServerIdentity: checkServer(server) });
  }

  update(material: MeshTlsMaterial): void {
    this.provider.set(material);
  }
}

// The verified client certificate of a call, checked against what the stream
// takes; { ok: false } with the reason when there is none or it does not fit.
export function verifiedPeer(call: { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | null }, expect: MeshPeerExpectation): MeshPeerCheck {
  // grpc-js gives the certificate only when the TLS stack verified it.
  return checkMeshPeer(call.getAuthContext?.()?.sslPeerCertificate, expect);
}

export function hasClientCertificate(call: { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | null }): boolean {
  return !!call.getAuthContext?.()?.sslPeerCertificate;
}
