// Connections from this edge to the zone ingress of every other region,
// one pool per region, shared by all services. Plain HTTP/1.1 with keep-alive
// until the mesh identity is configured; with a client certificate and a CA
// (--tls-cert/--tls-key/--tls-ca) the pool speaks TLS with that certificate
// and negotiates HTTP/2 (allowH2), so every service to a region shares a
// few multiplexed connections. This module is the only place that knows how
// an edge reaches an ingress.
import * as fs from 'node:fs';
import { Pool, type Dispatcher } from 'undici';

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

  // The pool to a region's ingress; a new address replaces the old pool (the
  // old one finishes its requests, then closes).
  get(region: string, address: string): Dispatcher {
    const entry = this.pools.get(region);
    if (entry !== undefined && entry.address === address) return entry.pool;
    if (entry !== undefined) void entry.pool.close().catch(() => undefined);
    const pool = this.create(address);
    this.pools.set(region, { address, pool });
    return pool;
  }

  // Regions no longer in the view.
  retain(regions: ReadonlySet<string>): void {
    for (const [region, entry] of this.pools) {
      if (regions.has(region)) continue;
      this.pools.delete(region);
      void entry.pool.close().catch(() => undefined);
    }
  }

  // New certificates (rotation): pools made from now on use them; existing
  // connections keep theirs until they close.
  setTls(files: MeshTlsFiles): void {
    this.tlsMaterial = readTls(files);
    for (const [region, entry] of this.pools) {
      this.pools.delete(region);
      void entry.pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => undefined)));
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

function readTls(files: MeshTlsFiles): { cert: Buffer; key: Buffer; ca: Buffer } {
  return { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key), ca: fs.readFileSync(files.ca) };
}
