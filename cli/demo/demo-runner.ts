// Starts the whole demo as real processes, in order, saying what it does:
// etcd, the global controller, the resources in examples/, then per region a
// zone controller, two echo instances registered with it (with an instance
// token of the region for echo, kept in a file, never logged), an edge and a
// zone ingress. stop() ends every process it started.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdProcess } from '../../lib/process/etcd-process';
import { PartProcess, waitFor } from '../../lib/process/part-process';
import { meridianBin } from '../../lib/process/meridian-bin';
import { parseDocuments } from '../../lib/resources';
import { createSelfSignedCertificate } from '../../lib/pki';
import type { DemoLayout, DemoRegionLayout } from './demo-layout';
import { createProxyToken } from '../../lib/auth/proxy-token';
import { portOpen, whichCommand } from './local-host';

export interface DemoEndpoints {
  dataDir: string;
  // The edges' self-signed certificate, for clients of the demo's HTTPS listeners.
  edgeCertificate: string | null;
  etcd: string;
  admin: { url: string; token: string; readToken: string };
  federation: string;
  regions: Record<
    string,
    {
      zoneController: string;
      // The region's instance token for echo (0600): `meridian register --token "$(cat FILE)"`.
      instanceTokenFile: string;
      discovery: string;
      dns: string;
      edge: { http: string; https: string; admin: string; mesh: string; meshTls: string } | null;
      ingress: { address: string; admin: string } | null;
      instances: { id: string; address: string; port: number; pid: number }[];
      // The region's redis-server instance (fra and iad, when redis-server is installed).
      redis: { id: string; address: string; port: number; pid: number } | null;
      // The edge's public address of TCP services (redis on its Service port, 6379).
      tcpHost: string;
    }
  >;
  // Why the redis service has no instances, when it has none.
  redisMissing?: string;
}

export type Progress = (step: number, total: number, message: string) => void;

// What the demo reads of GET /v1/regions.
interface RegionsView {
  regions?: { region: string; online?: boolean; edges?: { mode: string; healthy: boolean }[]; services?: { service: string; healthy: number }[] }[];
}

export class DemoRunner {
  readonly dataDir: string;
  private readonly etcd: EtcdProcess;
  private readonly parts: PartProcess[] = [];
  private readonly adminToken = randomBytes(18).toString('base64url');
  private readonly readToken = randomBytes(18).toString('base64url');
  private readonly ownsDataDir: boolean;

  constructor(private readonly layout: DemoLayout, private readonly opts: { dataDir?: string; examplesDir: string; withProxies: boolean; progress: Progress }) {
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-demo-'));
    fs.mkdirSync(path.join(this.dataDir, 'logs'), { recursive: true });
    this.etcd = new EtcdProcess({ dataDir: path.join(this.dataDir, 'etcd'), clientPort: layout.etcdClient, peerPort: layout.etcdPeer, name: 'demo' });
  }

  private part(name: string, args: string[]): PartProcess {
    return this.partCommand(name, process.execPath, [meridianBin(), ...args]);
  }

  private partCommand(name: string, command: string, args: string[]): PartProcess {
    const p = new PartProcess({ name, command, args, logDir: path.join(this.dataDir, 'logs') });
    p.start();
    this.parts.push(p);
    return p;
  }

  // The admin API's answer; its body is the JSON of the route asked, read field by field here.
  private async api<T = unknown>(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`http://127.0.0.1:${this.layout.globalHttp}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as T };
  }

  async start(): Promise<DemoEndpoints> {
    const { layout, opts } = this;
    const total = opts.withProxies ? 7 : 6;
    fs.mkdirSync(this.etcd.dataDir, { recursive: true });
    opts.progress(1, total, `starting etcd on 127.0.0.1:${layout.etcdClient}`);
    await this.etcd.start();

    opts.progress(2, total, `starting the global controller (federation 127.0.0.1:${layout.globalGrpc}, admin http://127.0.0.1:${layout.globalHttp})`);
    const tokensFile = path.join(this.dataDir, 'tokens');
    fs.writeFileSync(tokensFile, `admin ${this.adminToken}\nread ${this.readToken}\n`, { mode: 0o600 });
    // Seals the mesh root CA's key in etcd.
    const dataKeyFile = path.join(this.dataDir, 'data.key');
    fs.writeFileSync(dataKeyFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    const gc = this.part('global-controller', [
      'global-controller', '--etcd', this.etcd.endpoint, '--grpc', `127.0.0.1:${layout.globalGrpc}`,
      '--http', `127.0.0.1:${layout.globalHttp}`, '--tokens-file', tokensFile, '--replica', 'demo-gc-1', '--data-key-file', dataKeyFile,
    ]);
    await this.waitHealthy(gc, `http://127.0.0.1:${layout.globalHttp}/healthz`, (b) => b.storeWarm === true);

    opts.progress(3, total, `applying ${opts.examplesDir}`);
    const docs = fs
      .readdirSync(opts.examplesDir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .flatMap((f) => parseDocuments(fs.readFileSync(path.join(opts.examplesDir, f), 'utf8'), f));
    const applied = await this.api('POST', '/v1/apply', docs);
    if (applied.status !== 200) throw new Error(`applying the examples failed: ${applied.status} ${JSON.stringify(applied.body)}`);

    opts.progress(4, total, `starting zone controllers for ${layout.regions.map((r) => r.name).join(', ')}`);
    const endpoints: DemoEndpoints = {
      dataDir: this.dataDir,
      edgeCertificate: opts.withProxies ? path.join(this.dataDir, 'certs', 'edge.crt') : null,
      etcd: this.etcd.endpoint,
      admin: { url: `http://127.0.0.1:${layout.globalHttp}`, token: this.adminToken, readToken: this.readToken },
      federation: `127.0.0.1:${layout.globalGrpc}`,
      regions: {},
    };
    await Promise.all(layout.regions.map((r) => this.startZone(r)));

    const redisServer = whichCommand('redis-server');
    opts.progress(
      5,
      total,
      `starting two echo instances per region and registering them with an instance token of the region for echo${redisServer ? '; redis-server in fra and iad for the redis service (TCP)' : ''}`,
    );
    if (!redisServer) endpoints.redisMissing = 'redis-server is not installed (apt-get install redis-server): the redis service (TCP) has no instances';
    for (const r of layout.regions) {
      const tokenFile = await this.writeInstanceToken(r);
      const instances = await this.startEchos(r, fs.readFileSync(tokenFile, 'utf8').trim());
      endpoints.regions[r.name] = {
        zoneController: `http://127.0.0.1:${r.zoneHttp}`,
        instanceTokenFile: tokenFile,
        discovery: `127.0.0.1:${r.zoneGrpc}`,
        dns: `127.0.0.1:${r.dns}`,
        edge: null,
        ingress: null,
        instances,
        redis: redisServer ? await this.startRedis(r) : null,
        tcpHost: r.tcpHost,
      };
    }
    if (opts.withProxies) {
      opts.progress(6, total, `starting an edge and a zone ingress per region (${layout.regions.map((r) => r.name).join(', ')})`);
      await this.writeEdgeCertificate();
      for (const r of layout.regions) {
        this.startProxies(r);
        endpoints.regions[r.name]!.edge = { http: `127.0.0.1:${r.edgeHttp}`, https: `127.0.0.1:${r.edgeHttps}`, admin: `127.0.0.1:${r.edgeAdmin}`, mesh: `${r.meshAddress}:${r.meshPort}`, meshTls: `${r.meshAddress}:${r.meshTlsPort}` };
        endpoints.regions[r.name]!.ingress = { address: `127.0.0.1:${r.ingress}`, admin: `127.0.0.1:${r.ingressAdmin}` };
      }
    }

    opts.progress(total, total, `waiting until every region is online with two healthy echo instances${opts.withProxies ? ' and a healthy edge' : ''}`);
    await waitFor('every region online with two healthy instances', async () => {
      const view = await this.api<RegionsView | null>('GET', '/v1/regions');
      const ready = layout.regions.every((r) => {
        const z = view.body?.regions?.find((x) => x.region === r.name);
        // The edge's own health reaches the global view a moment after its
        // /healthz answers: wait for it, so `meridian status` agrees at once.
        const edgeSeen = !opts.withProxies || z?.edges?.some((e) => e.mode === 'edge' && e.healthy);
        return z?.online && edgeSeen && z.services?.some((s) => s.service === 'echo' && s.healthy === 2);
      });
      return ready || undefined;
    }, 30_000, 200);
    if (opts.withProxies) {
      for (const r of layout.regions) {
        await waitFor(`the ${r.name} edge`, async () => (await fetch(`http://127.0.0.1:${r.edgeAdmin}/healthz`)).ok || undefined, 20_000, 100);
        await waitFor(`the ${r.name} ingress`, async () => (await fetch(`http://127.0.0.1:${r.ingressAdmin}/healthz`)).ok || undefined, 20_000, 100);
      }
    }
    return endpoints;
  }

  private async startZone(r: DemoRegionLayout): Promise<void> {
    // Good for one join: the zone comes back over mTLS with the zone CA it buys.
    const token = await this.api<{ token: string; rootFingerprint: string }>('POST', '/v1/tokens', { region: r.name, ttl: '1h' });
    if (token.status !== 200) throw new Error(`join token for ${r.name}: ${token.status} ${JSON.stringify(token.body)}`);
    const tokenFile = path.join(this.dataDir, `${r.name}.join-token`);
    fs.writeFileSync(tokenFile, token.body.token, { mode: 0o600 });
    // The region's proxy token: discovery runs mTLS (the zone and its proxies share it).
    fs.writeFileSync(this.proxyTokenFile(r), createProxyToken(token.body.rootFingerprint), { mode: 0o600 });
    const zone = this.part(`zone-${r.name}`, [
      'zone-controller', '--region', r.name, '--global', `127.0.0.1:${this.layout.globalGrpc}`, '--join-token-file', tokenFile,
      '--http', `127.0.0.1:${r.zoneHttp}`, '--grpc', `127.0.0.1:${r.zoneGrpc}`, '--dns', `127.0.0.1:${r.dns}`,
      '--ingress', `127.0.0.1:${r.ingress}`, '--state-dir', path.join(this.dataDir, `zone-${r.name}`),
      '--proxy-token-file', this.proxyTokenFile(r), '--state-key-file', this.stateKeyFile(r),
    ]);
    // Federated and holding the echo service: instances can be registered.
    await this.waitHealthy(zone, `http://127.0.0.1:${r.zoneHttp}/healthz`, (b) => b.federated === true && typeof b.version === 'number' && b.version > 0);
  }

  // Made by the global controller for the region's echo instances; the file
  // is how the demo hands it on (the token itself goes to no log).
  private async writeInstanceToken(r: DemoRegionLayout, service = 'echo'): Promise<string> {
    const res = await this.api<{ token: string; error?: string }>('POST', '/v1/instance-tokens', { region: r.name, service, ttl: '30d' });
    if (res.status !== 201) throw new Error(`instance token for ${r.name}: ${res.status} ${JSON.stringify(res.body?.error ?? res.body)}`);
    const file = path.join(this.dataDir, service === 'echo' ? `${r.name}.instance-token` : `${r.name}.${service}.instance-token`);
    fs.writeFileSync(file, `${res.body.token}\n`, { mode: 0o600 });
    return file;
  }

  // The TCP service: one redis-server in the regions the layout gives one,
  // registered like the echo instances (with a token for redis).
  private async startRedis(r: DemoRegionLayout): Promise<{ id: string; address: string; port: number; pid: number } | null> {
    if (r.redis === null) return null;
    const id = `redis-${r.name}-1`;
    const redis = this.partCommand(id, 'redis-server', ['--port', String(r.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']);
    await waitFor(`${id} on 127.0.0.1:${r.redis}`, async () => {
      if (!redis.running) throw new Error(`${id} exited; its log:\n${redis.tail(20)}`);
      return (await portOpen('127.0.0.1', r.redis!)) || undefined;
    }, 20_000, 100);
    const token = fs.readFileSync(await this.writeInstanceToken(r, 'redis'), 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${r.zoneHttp}/v1/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id, service: 'redis', address: '127.0.0.1', port: r.redis }),
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`registering ${id}: ${res.status} ${await res.text()}`);
    return { id, address: '127.0.0.1', port: r.redis, pid: redis.pid! };
  }

  private async startEchos(r: DemoRegionLayout, instanceToken: string): Promise<{ id: string; address: string; port: number; pid: number }[]> {
    const out = [];
    for (const [i, port] of r.echo.entries()) {
      const instance = `echo-${r.name}-${i + 1}`;
      const echo = this.part(instance, ['echo-server', '--listen', `127.0.0.1:${port}`, '--service', 'echo', '--region', r.name, '--instance', instance]);
      await this.waitHealthy(echo, `http://127.0.0.1:${port}/healthz`, () => true);
      const res = await fetch(`http://127.0.0.1:${r.zoneHttp}/v1/instances`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${instanceToken}` },
        body: JSON.stringify({ id: instance, service: 'echo', address: '127.0.0.1', port }),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`registering ${instance}: ${res.status} ${await res.text()}`);
      out.push({ id: instance, address: '127.0.0.1', port, pid: echo.pid! });
    }
    return out;
  }

  // The edges' public certificate: self-signed for the demo's hosts.
  private async writeEdgeCertificate(): Promise<void> {
    const dir = path.join(this.dataDir, 'certs');
    fs.mkdirSync(dir, { recursive: true });
    const { certPem, keyPem } = await createSelfSignedCertificate({
      commonName: 'echo.mesh',
      dnsNames: ['echo.mesh', '*.mesh', 'echo.example.com', 'localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    fs.writeFileSync(path.join(dir, 'edge.crt'), certPem);
    fs.writeFileSync(path.join(dir, 'edge.key'), keyPem, { mode: 0o600 });
  }

  // Seals the zone's CA and WireGuard keys in its state dir: kept beside it in
  // the data dir, not inside it, and made once so a restarted zone opens them.
  private stateKeyFile(r: DemoRegionLayout): string {
    const file = path.join(this.dataDir, `${r.name}.state-key`);
    if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    return file;
  }

  private proxyTokenFile(r: DemoRegionLayout): string {
    return path.join(this.dataDir, `${r.name}.proxy-token`);
  }

  private startProxies(r: DemoRegionLayout): void {
    const certs = path.join(this.dataDir, 'certs');
    const zone = `127.0.0.1:${r.zoneGrpc}`;
    const zoneTls = ['--zone-token-file', this.proxyTokenFile(r)];
    // Every request's line and spans in logs/: a demo's traffic is small.
    const logAll = ['--access-log-sample', '1'];
    this.part(`edge-${r.name}`, [
      'edge', '--mode', 'edge', '--region', r.name, '--zone', zone, '--name', `edge-${r.name}`,
      '--http', `127.0.0.1:${r.edgeHttp}`, '--https', `127.0.0.1:${r.edgeHttps}`, '--admin', `127.0.0.1:${r.edgeAdmin}`,
      '--cert', path.join(certs, 'edge.crt'), '--key', path.join(certs, 'edge.key'), ...zoneTls, ...logAll,
      // The region's workloads call <service>.mesh here (the zone DNS answer).
      '--mesh-http', `${r.meshAddress}:${r.meshPort}`, '--mesh-https', `${r.meshAddress}:${r.meshTlsPort}`,
      // TCP services (redis) to the internet: an address per edge, as each has its own host in production.
      '--tcp-host', r.tcpHost,
    ]);
    // mTLS only: the ingress serves its mesh leaf and checks every caller's.
    this.part(`ingress-${r.name}`, [
      'edge', '--mode', 'ingress', '--region', r.name, '--zone', zone, '--name', `ingress-${r.name}`,
      '--https', `127.0.0.1:${r.ingress}`, '--admin', `127.0.0.1:${r.ingressAdmin}`, ...zoneTls, ...logAll,
    ]);
  }

  private async waitHealthy(p: PartProcess, url: string, ok: (body: Record<string, unknown>) => boolean): Promise<void> {
    await waitFor(`${p.name} at ${url}`, async () => {
      if (!p.running) throw new Error(`${p.name} exited; its log:\n${p.tail(20)}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      return (res.ok && ok(body)) || undefined;
    }, 20_000, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\n--- ${p.name} log (${p.logFile}) ---\n${p.tail(20)}`);
    });
  }

  // Proxies first, then zones, then the control plane, then etcd.
  async stop(): Promise<void> {
    const order = [...this.parts].reverse();
    await Promise.all(order.filter((p) => /^(edge|ingress|echo|redis)-/.test(p.name)).map((p) => p.stop()));
    await Promise.all(order.filter((p) => p.name.startsWith('zone-')).map((p) => p.stop()));
    await Promise.all(order.map((p) => p.stop()));
    await this.etcd.stop();
    if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
