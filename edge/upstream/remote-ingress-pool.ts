// Connections from this edge to the zone ingress of every other region,
// one pool per region, shared by all services. Plain HTTP/1.1 with keep-alive
// until the mesh identity is configured; with a client certificate and a CA
// (--tls-cert/--tls-key/--tls-ca) the pool speaks TLS with that certificate
// and negotiates HTTP/2 (allowH2), so every service to a region shares a
// few multiplexed connections. gRPC (and other HTTP/2-only services) needs
// HTTP/2 end to end: over TLS that is the same pool; in plain mode a second
// pool per region speaks prior-knowledge h2c to the ingress's plain
// listener. Protocol upgrades (WebSocket) get a connection of their own
// (upgradeConnection). This module is the only place that knows how an edge
// reaches an ingress.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Pool } from 'undici';
import { H2InstancePool } from './h2-instance-pool';
import type { UpstreamDispatcher } from './upstream-dispatcher';

export interface MeshTlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface RemoteIngressOptions {
  connectTimeoutMs: number;
  connections: number;
  tls?: MeshTlsFiles;
}

interface Entry {
  address: string;
  pool: Pool;
  // Plain mode, HTTP/2 services: h2c to the ingress, made on first use.
  h2c: H2InstancePool | undefined;
}

export class RemoteIngressPools {
  private readonly pools = new Map<string, Entry>();
  private tlsMaterial: { cert: Buffer; key: Buffer; ca: Buffer } | undefined;

  constructor(private readonly options: RemoteIngressOptions) {
    if (options.tls) this.tlsMaterial = readTls(options.tls);
  }

  get secure(): boolean {
    return this.tlsMaterial !== undefined;
  }

  // The pool to a region's ingress (http2: for a service that needs HTTP/2
  // end to end); a new address replaces the old pools (the old ones finish
  // their requests, then close).
  get(region: string, address: string, http2 = false): UpstreamDispatcher {
    let entry = this.pools.get(region);
    if (entry === undefined || entry.address !== address) {
      if (entry !== undefined) closeEntry(entry);
      entry = { address, pool: this.create(address), h2c: undefined };
      this.pools.set(region, entry);
    }
    if (!http2 || this.tlsMaterial !== undefined) return entry.pool;
    entry.h2c ??= new H2InstancePool(...splitAddress(address), { connectTimeoutMs: this.options.connectTimeoutMs });
    return entry.h2c;
  }

  // A new connection to an ingress for one protocol upgrade (HTTP/1.1): TCP,
  // or TLS with the mesh certificate (ALPN http/1.1: an upgrade cannot ride
  // an HTTP/2 connection).
  upgradeConnection(address: string): net.Socket {
    const [host, port] = splitAddress(address);
    const m = this.tlsMaterial;
    if (m === undefined) return net.connect({ host, port, noDelay: true });
    return tls.connect({ host, port, cert: m.cert, key: m.key, ca: m.ca, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined }).setNoDelay(true);
  }

  // Regions no longer in the view.
  retain(regions: ReadonlySet<string>): void {
    for (const [region, entry] of this.pools) {
      if (regions.has(region)) continue;
      this.pools.delete(region);
      closeEntry(entry);
    }
  }

  // New certificates (rotation): pools made from now on use them; existing
  // connections keep theirs until they close.
  setTls(files: MeshTlsFiles): void {
    this.tlsMaterial = readTls(files);
    for (const [region, entry] of this.pools) {
      this.pools.delete(region);
      closeEntry(entry);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.flatMap((e) => [e.pool.destroy().catch(() => undefined), e.h2c?.destroy()]));
  }

  private create(address: string): Pool {
    const tls = this.tlsMaterial;
    if (tls === undefined) {
      return new Pool(`http://${address}`, {
        connections: this.options.connections,
        pipelining: 1,
        connect: { timeout: this.options.connectTimeoutMs },
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    }
    return new Pool(`https://${address}`, {
      connections: this.options.connections,
      allowH2: true,
      // Trust is the mesh CA: any certificate it signed is a mesh member. The
      // identity issue adds the check of the peer's SPIFFE ID here.
      connect: {
        timeout: this.options.connectTimeoutMs,
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        checkServerIdentity: () => undefined,
      },
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }
}

function closeEntry(entry: Entry): void {
  void entry.pool.close().catch(() => undefined);
  void entry.h2c?.close();
}

// host:port (or [v6]:port) into its parts.
function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  return [host.startsWith('[') ? host.slice(1, -1) : host, Number(address.slice(colon + 1))];
}

function readTls(files: MeshTlsFiles): { cert: Buffer; key: Buffer; ca: Buffer } {
  return { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key), ca: fs.readFileSync(files.ca) };
}
