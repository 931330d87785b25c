// Connections from this edge to the zone ingress of every other region,
// one pool per region, shared by all services. Plain HTTP/1.1 with keep-alive
// until the mesh identity is configured; with mesh TLS (a leaf from the zone
// controller in controlled mode, or --tls-cert/--tls-key/--tls-ca) the pool
// speaks TLS with that certificate and negotiates HTTP/2 (allowH2), so every
// service to a region shares a few multiplexed connections. gRPC (and other
// HTTP/2-only services) needs HTTP/2 end to end: over TLS that is the same
// pool; in plain mode a second pool per region speaks prior-knowledge h2c to
// the ingress's plain listener. Protocol upgrades (WebSocket) get a
// connection of their own (upgradeConnection). This module is the only place
// that knows how an edge reaches an ingress.
//
// Rotation: each region's pool is a RenewablePool that the backends keep;
// renewing it sends new requests to a new undici Pool (new connections, the
// new certificate) while the old one finishes what it carries, then closes.
// Nothing in flight is cut. It renews when this edge's certificate changes
// and when the ingress's certificate reaches its own rotation time, so a
// long-lived HTTP/2 connection does not outlive either certificate. It
// also renews when a try found the path to the ingress dead
// (ingress-path-check.ts): a hung HTTP/2 session would hold every new
// request sent on it until the client gave up.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { buildConnector, Client, Pool, type Dispatcher } from 'undici';
import { rotationDueAt } from '../../lib/pki';
import { H2InstancePool } from './h2-instance-pool';
import { IngressPathCheck } from './ingress-path-check';
import type { UpstreamDispatcher } from './upstream-dispatcher';

export interface MeshTlsFiles {
  cert: string;
  key: string;
  ca: string;
}

// In memory: the chain (leaf first), its key and the roots peers must chain to.
export interface MeshTlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer | (string | Buffer)[];
  // Set in controlled mode: the ingress must present
  // spiffe://<trustDomain>/region/<the dialled region>/ingress/<name>.
  trustDomain?: string;
}

export interface RemoteIngressOptions {
  connectTimeoutMs: number;
  connections: number;
  tls?: MeshTlsFiles;
}

// What the edge last saw of a region's ingress (/v1/view).
export interface IngressPeer {
  identity: string;
  serial: string;
  notAfter: string;
}

// An ingress that has not rotated when its certificate said it would is
// looked at again after this long, not at once.
const PEER_RECHECK_MS = 5_000;
// A little after the peer's rotation time: it needs a moment to renew.
const PEER_GRACE_MS = 1_000;
// Streams one HTTP/2 connection to an ingress carries at once (undici's own
// default for an HTTP/2 peer's limit), for GET and HEAD without a body.
const H2_STREAMS_PER_CONNECTION = 100;

interface Entry {
  address: string;
  pool: RenewablePool;
  // Plain mode, HTTP/2 services: h2c to the ingress, made on first use.
  h2c: H2InstancePool | undefined;
  peer: IngressPeer | undefined;
  // The direct path went down since this pool was last used: its connections
  // may hang when the path comes back (packets lost mid-stream, TCP backing
  // off), so the next use starts on new ones.
  stale: boolean;
}

export class RemoteIngressPools {
  private readonly pools = new Map<string, Entry>();
  private material: MeshTlsMaterial | undefined;
  private readonly pathCheck = new IngressPathCheck();

  constructor(private readonly options: RemoteIngressOptions) {
    if (options.tls) this.material = readTls(options.tls);
  }

  get secure(): boolean {
    return this.material !== undefined;
  }

  // The pool to a region's ingress (http2: for a service that needs HTTP/2
  // end to end); a new address replaces the old pools (the old ones finish
  // their requests, then close).
  get(region: string, address: string, http2 = false): UpstreamDispatcher {
    let entry = this.pools.get(region);
    if (entry === undefined || entry.address !== address) {
      if (entry !== undefined) closeEntry(entry);
      const created: Entry = { address, pool: undefined as unknown as RenewablePool, h2c: undefined, peer: undefined, stale: false };
      created.pool = new RenewablePool(() => this.create(region, created), { address, check: this.pathCheck });
      entry = created;
      this.pools.set(region, entry);
    } else if (entry.stale) {
      entry.stale = false;
      entry.pool.renew();
      void entry.h2c?.destroy();
      entry.h2c = undefined;
    }
    if (!http2 || this.material !== undefined) return entry.pool;
    entry.h2c ??= new H2InstancePool(...splitAddress(address), { connectTimeoutMs: this.options.connectTimeoutMs });
    return entry.h2c;
  }

  // A new connection to an ingress for one protocol upgrade (HTTP/1.1): TCP,
  // or TLS with the mesh certificate (ALPN http/1.1: an upgrade cannot ride
  // an HTTP/2 connection).
  upgradeConnection(address: string): net.Socket {
    const [host, port] = splitAddress(address);
    const m = this.material;
    if (m === undefined) return net.connect({ host, port, noDelay: true });
    const region = [...this.pools].find(([, entry]) => entry.address === address)?.[0];
    return tls.connect({ host, port, ...tlsOptions(m, region), ALPNProtocols: ['http/1.1'] }).setNoDelay(true);
  }

  // Regions no longer in the view.
  retain(regions: ReadonlySet<string>): void {
    for (const [region, entry] of this.pools) {
      if (regions.has(region)) continue;
      this.pools.delete(region);
      closeEntry(entry);
    }
  }

  // Regions whose direct path is down (unreachable, or reached through a
  // relay): their pools start afresh when next used.
  pathsDown(regions: Iterable<string>): void {
    for (const region of regions) {
      const entry = this.pools.get(region);
      if (entry !== undefined) entry.stale = true;
    }
  }

  // New certificates (rotation): every region's pool is renewed; requests
  // in flight finish on the connections they have.
  setTls(files: MeshTlsFiles): void {
    this.setMaterial(readTls(files));
  }

  setMaterial(material: MeshTlsMaterial): void {
    this.material = material;
    for (const entry of this.pools.values()) entry.pool.renew();
  }

  // The certificate each region's ingress presented last.
  peers(): Record<string, IngressPeer> {
    const out: Record<string, IngressPeer> = {};
    for (const [region, entry] of this.pools) if (entry.peer) out[region] = entry.peer;
    return out;
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.flatMap((e) => [e.pool.destroy().catch(() => undefined), e.h2c?.destroy()]));
  }

  private create(region: string, entry: Entry): IngressPool {
    const address = entry.address;
    const m = this.material;
    if (m === undefined) {
      return new Pool(`http://${address}`, {
        connections: this.options.connections,
        pipelining: 1,
        connect: { timeout: this.options.connectTimeoutMs },
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    }
    // No TLS session resumption: a resumed session would carry the
    // certificate of the connection it came from, not the current one.
    const connector = buildConnector({ ...tlsOptions(m, region), allowH2: true, maxCachedSessions: 0, timeout: this.options.connectTimeoutMs });
    const connect = (onSocket: (socket: tls.TLSSocket) => void): buildConnector.connector => (connectOpts, callback) =>
      connector(connectOpts, (...result) => {
        if (result[0] === null) {
          const socket = result[1] as tls.TLSSocket;
          this.sawPeer(entry, socket);
          onSocket(socket);
        }
        callback(...result);
      });
    const options = { connections: this.options.connections, allowH2: true, headersTimeout: 0, bodyTimeout: 0 };
    // undici sends one request at a time per connection unless told
    // otherwise, even over HTTP/2: a burst of 50 GETs opened 33 TLS
    // connections. Bodyless GETs and HEADs share connections, up to
    // H2_STREAMS_PER_CONNECTION streams each (one at a time should ALPN not
    // pick h2). Other requests get a connection each, as before: undici puts
    // a request with a body, or a non-idempotent one, only on a connection
    // with nothing else in flight, so sharing would queue them.
    const shared = new Pool(`https://${address}`, {
      ...options,
      factory: (origin, opts) => {
        const client: Client = new Client(origin, {
          ...opts,
          pipelining: H2_STREAMS_PER_CONNECTION,
          connect: connect((socket) => {
            if (socket.alpnProtocol !== 'h2') client.pipelining = 1;
          }),
        });
        return client;
      },
    });
    const exclusive = new Pool(`https://${address}`, { ...options, connect: connect(() => undefined) });
    return new SplitPool(shared, exclusive);
  }

  // Renews the region's pool once the ingress's certificate reaches the
  // time it rotates at (plus a grace; not sooner than PEER_RECHECK_MS).
  private sawPeer(entry: Entry, socket: tls.TLSSocket): void {
    const cert = socket.getPeerCertificate();
    if (!cert?.raw) return;
    const uri = /URI:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1] ?? '';
    entry.peer = { identity: uri, serial: cert.serialNumber.toLowerCase(), notAfter: new Date(cert.valid_to).toISOString() };
    const due = rotationDueAt(cert.raw).getTime() + PEER_GRACE_MS;
    entry.pool.renewAt(Math.max(due, Date.now() + PEER_RECHECK_MS));
  }
}

// What RenewablePool renews: an undici Pool, or a SplitPool.
type IngressPool = Pick<Dispatcher, 'dispatch' | 'close' | 'destroy'>;

// Bodyless GETs and HEADs to the pool whose connections they share; every
// other request to the one that gives it a connection of its own.
export class SplitPool implements IngressPool {
  constructor(
    private readonly shared: Pool,
    private readonly exclusive: Pool,
  ) {}

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const multiplexed = (options.method === 'GET' || options.method === 'HEAD') && options.body == null && !options.upgrade;
    return (multiplexed ? this.shared : this.exclusive).dispatch(options, handler);
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.exclusive.close()]);
  }

  async destroy(): Promise<void> {
    await Promise.all([this.shared.destroy(), this.exclusive.destroy()]);
  }
}

// A stable dispatcher over a replaceable undici Pool.
export class RenewablePool implements UpstreamDispatcher {
  generation = 0;
  private current: IngressPool;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    private readonly make: () => IngressPool,
    // The ingress it reaches and the check of the path to it.
    private readonly path?: { address: string; check: IngressPathCheck },
  ) {
    this.current = make();
  }

  // Dead: new requests go to a new pool, once per generation however many
  // tries found it dead. rttMs: the path's round trip as far as known.
  async pathAlive(generation: number, rttMs: number): Promise<boolean> {
    if (this.path === undefined) return true;
    const alive = await this.path.check.alive(this.path.address, rttMs);
    if (!alive && generation === this.generation) this.renew();
    return alive;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.current.dispatch(options, handler);
  }

  // New requests to a new pool; the old one closes once its requests are done.
  renew(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timerAt = Infinity;
    const old = this.current;
    this.current = this.make();
    this.generation++;
    void old.close().catch(() => undefined);
  }

  // Renew at `atMs` (epoch), or earlier if already asked for earlier.
  renewAt(atMs: number): void {
    if (this.closed || atMs >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = atMs;
    this.timer = setTimeout(() => this.renew(), Math.min(Math.max(0, atMs - Date.now()), 2 ** 31 - 1));
    this.timer.unref();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    return this.current.close();
  }

  destroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    return this.current.destroy();
  }
}

function tlsOptions(m: MeshTlsMaterial, region: string | undefined): tls.ConnectionOptions {
  // Trust is the mesh roots; in controlled mode the ingress must also be an
  // ingress of the region dialled. Host names do not matter (tunnel addresses).
  const expected = m.trustDomain !== undefined && region !== undefined ? `spiffe://${m.trustDomain}/region/${region}/ingress/` : undefined;
  return {
    cert: m.cert,
    key: m.key,
    ca: m.ca,
    checkServerIdentity: (_host, cert) => {
      if (expected === undefined) return undefined;
      const uris = (cert.subjectaltname ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
      if (uris.length === 1 && uris[0]!.startsWith(expected) && !uris[0]!.slice(expected.length).includes('/')) return undefined;
      return new Error(`the ingress presented ${uris.join(', ') || 'no spiffe:// identity'}, expected an identity ${expected}<name>`);
    },
  };
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

function readTls(files: MeshTlsFiles): MeshTlsMaterial {
  return { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key), ca: fs.readFileSync(files.ca) };
}
