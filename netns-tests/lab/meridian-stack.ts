// Meridian itself in the lab: the real processes, started with
// `node bin/meridian ...` inside the namespaces. In `global`: etcd and the
// global controller. Per region: the zone controller (which brings up the
// region's WireGuard interface and peers it with the others), two echo
// instances registered with `meridian register`, the zone ingress on the
// tunnel address, and the edge on the anycast address, which drives the
// region host's BIRD (announce while healthy, withdraw first on SIGTERM).
// Everything is a LabProcess, so the lab's teardown stops it too.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../../lib/net/exec';
import { meridianBin } from '../../lib/process/meridian-bin';
import type { Lab } from './lab';
import type { LabNode, Region } from './address-plan';
import type { LabProcess } from './lab-process';
import { onlyService, regionResource, serviceResources, toYaml } from './lab-resources';
import { NsHttp } from './ns-http';

export const PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  federation: 7400,
  // The admin API over HTTPS (the CLI pins the mesh root), and in plaintext on the global host's loopback.
  admin: 7401,
  adminLocal: 7402,
  zoneHttp: 7500,
  zoneGrpc: 7501,
  dns: 5353,
  ingress: 7600,
  ingressAdmin: 7601,
  edgeAdmin: 7602,
  echo: [9001, 9002] as const,
  only: 9101,
  // Where a region's redis instance listens (on loopback; registered with this port).
  redis: 7379,
  edgeHttp: 80,
  // The edge's mesh listener, on the region's instance network.
  meshHttp: 80,
} as const;

export interface RegionParts {
  zone?: LabProcess;
  echos: LabProcess[];
  ingress?: LabProcess;
  edge?: LabProcess;
}

// What GET /v1/regions says of one zone (the fields the tests read).
export interface RegionStatus {
  region: string;
  online: boolean;
  ingressAddress: string;
  services: { service: string; healthy: number; total: number }[];
  peers?: { region: string; up: boolean; rttMs: number; lastHandshakeAtMs: number | string }[];
  edges?: { name: string; mode?: string; announcing: boolean; healthy: boolean; requestRate?: number }[];
}

export interface StackOptions {
  // Regions that run Meridian from the start (default: the lab's three).
  regions?: Region[];
  // Regions that get a service of their own (only-<region>, one instance).
  only?: Region[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MeridianStack {
  readonly adminToken = randomBytes(18).toString('base64url');
  // The mesh root's fingerprint, read on the global host over loopback: what
  // \`meridian\` in every namespace pins the HTTPS admin API by.
  rootFingerprint = '';
  etcd: LabProcess | undefined;
  controller: LabProcess | undefined;
  readonly parts = new Map<Region, RegionParts>();
  readonly timings: Record<string, number> = {};
  private readonly agents = new Map<LabNode, NsHttp>();
  private only: Region[] = [];

  constructor(readonly lab: Lab) {}

  static async start(lab: Lab, o: StackOptions = {}): Promise<MeridianStack> {
    const stack = new MeridianStack(lab);
    const regions = o.regions ?? (['fra', 'iad', 'sin'] as Region[]);
    stack.only = o.only ?? [];
    const t0 = Date.now();
    await stack.startGlobal();
    stack.timings.globalMs = Date.now() - t0;
    await stack.apply([...regions.map((r) => regionResource(lab.addresses, r)), ...serviceResources(stack.only)]);
    const t1 = Date.now();
    await Promise.all(regions.map((r) => stack.startRegion(r)));
    await stack.waitSteady(regions);
    stack.timings.regionsMs = Date.now() - t1;
    stack.timings.totalMs = Date.now() - t0;
    return stack;
  }

  get globalAddress(): string {
    return this.lab.addresses.global.address;
  }

  get adminUrl(): string {
    return `https://${this.globalAddress}:${PORTS.admin}`;
  }

  // Plaintext, for the test's own reads from inside the global namespace.
  get localAdminUrl(): string {
    return `http://127.0.0.1:${PORTS.adminLocal}`;
  }

  // As an operator does on the node: the root from the loopback listener.
  async pinRoot(): Promise<string> {
    const ca = await this.http('global').json<{ roots: { active: boolean; fingerprint: string }[] }>(`${this.localAdminUrl}/v1/ca`, { headers: { authorization: `Bearer ${this.adminToken}` } });
    const active = ca.roots.find((r) => r.active);
    if (!active) throw new Error(`no active root in GET /v1/ca: ${JSON.stringify(ca.roots)}`);
    this.rootFingerprint = active.fingerprint;
    return active.fingerprint;
  }

  get federation(): string {
    return `${this.globalAddress}:${PORTS.federation}`;
  }

  dir(node: LabNode, ...more: string[]): string {
    const d = path.join(this.lab.dir, node, ...more);
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  // HTTP from inside a namespace (one agent per namespace, started on first use).
  http(node: LabNode): NsHttp {
    let a = this.agents.get(node);
    if (a === undefined) this.agents.set(node, (a = NsHttp.start(this.lab, node)));
    return a;
  }

  // `meridian ARGS` run to completion inside a namespace, talking to the
  // global controller's admin API over HTTPS with the admin token, pinning
  // the mesh root by its fingerprint. The bound only catches a hang: on a
  // loaded machine a run that takes well under a second alone has taken 20 s.
  meridian(node: LabNode, args: string[], o: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return this.lab.exec(node, process.execPath, [meridianBin(), ...args], {
      input: o.input,
      timeoutMs: o.timeoutMs ?? 60_000,
      env: { MERIDIAN_SERVER: this.adminUrl, MERIDIAN_TOKEN: this.adminToken, ...(this.rootFingerprint ? { MERIDIAN_CA_FINGERPRINT: this.rootFingerprint } : {}), ...o.env },
    });
  }

  // A long-running `meridian ARGS` in a namespace.
  spawnMeridian(node: LabNode, name: string, args: string[]): LabProcess {
    return this.lab.spawn(node, process.execPath, [meridianBin(), ...args], { name, env: { MERIDIAN_LOG_LEVEL: 'info' } });
  }

  async waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200, alive: LabProcess[] = []): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      for (const p of alive) {
        if (!p.running) throw new Error(`${what}: ${p.name} exited; its stderr/stdout tail:\n${(p.stderr + p.stdout).slice(-3000)}`);
      }
      try {
        const v = await probe();
        if (v !== undefined && v !== false) return v;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(everyMs);
    }
    throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${last})` : ''}`);
  }

  // --- global ---

  async startGlobal(): Promise<void> {
    const dir = this.dir('global');
    const tokens = path.join(dir, 'tokens');
    fs.writeFileSync(tokens, `admin ${this.adminToken}\n`, { mode: 0o600 });
    if (this.etcd === undefined) await this.startEtcd();
    await this.startGlobalController();
  }

  // etcd in `global`, on its data directory (a restart keeps the data).
  async startEtcd(): Promise<void> {
    const dir = this.dir('global');
    const peer = `http://127.0.0.1:${PORTS.etcdPeer}`;
    const client = `http://127.0.0.1:${PORTS.etcdClient}`;
    const etcd = (this.etcd = this.lab.spawn('global', 'etcd', [
      '--name', 'lab', '--data-dir', path.join(dir, 'etcd'), '--log-level', 'warn',
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `lab=${peer}`, '--initial-cluster-state', 'new',
      '--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1h',
    ], { name: 'global-etcd' }));
    await this.waitFor('etcd healthy', async () => (await this.http('global').json(`${client}/health`)).health === 'true', 20_000, 100, [etcd]);
  }

  async stopEtcd(): Promise<void> {
    await this.etcd?.stop('SIGTERM', 5000);
  }

  async startGlobalController(): Promise<void> {
    const tokens = path.join(this.dir('global'), 'tokens');
    // The key that seals the mesh CA in etcd (zones join only with a CA).
    const dataKey = path.join(this.dir('global'), 'data.key');
    if (!fs.existsSync(dataKey)) fs.writeFileSync(dataKey, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const gc = (this.controller = this.spawnMeridian('global', 'global-controller', [
      'global-controller', '--etcd', `http://127.0.0.1:${PORTS.etcdClient}`, '--grpc', this.federation,
      '--https', `${this.globalAddress}:${PORTS.admin}`, '--http', `127.0.0.1:${PORTS.adminLocal}`,
      '--tokens-file', tokens, '--replica', 'lab-gc', '--data-key-file', dataKey,
    ]));
    await this.waitFor('the global controller', async () => (await this.http('global').json(`${this.localAdminUrl}/healthz`)).storeWarm === true, 30_000, 100, [gc]);
    await this.pinRoot();
  }

  async stopGlobalController(): Promise<void> {
    await this.controller?.stop('SIGTERM', 5000);
  }

  // An apply is idempotent: one refused with a 5xx (a global controller just
  // restarted) is tried again, twice at most, and said so with the
  // controller's own error lines.
  async apply(docs: unknown[]): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.meridian('global', ['apply', '-f', '-'], { input: toYaml(docs) })).stdout;
      } catch (err) {
        const message = (err as Error).message;
        if (attempt >= 3 || !/answered HTTP 5\d\d/.test(message)) throw err;
        const errors = (this.controller?.stdout ?? '').split('\n').filter((l) => l.includes('"level":50')).slice(-3);
        console.log(`# note: apply refused (${message.split('\n')[0]}); global controller errors: ${errors.join(' | ') || 'none logged'}; trying again`);
        await sleep(500 * attempt);
      }
    }
  }

  // The region's instance token for every service (as a deployment system holds one), made once.
  private readonly instanceTokens = new Map<Region, Promise<string>>();
  instanceToken(region: Region): Promise<string> {
    let token = this.instanceTokens.get(region);
    if (!token) {
      token = this.meridian('global', ['token', 'create', '--instance', '--region', region, '--service', '*', '--ttl', '24h']).then((r) => r.stdout.trim());
      token.catch(() => this.instanceTokens.delete(region));
      this.instanceTokens.set(region, token);
    }
    return token;
  }

  // A join token from the HTTPS admin API, asked for from `from` (the global
  // host by default; a region node asks for its own the way an operator there would).
  async token(region: Region, from: LabNode = 'global'): Promise<string> {
    const { stdout } = await this.meridian(from, ['token', 'create', '--region', region, '--ttl', '1h']);
    return stdout.trim();
  }

  async regionsView(): Promise<RegionStatus[]> {
    return (await this.http('global').json<{ regions: RegionStatus[] }>(`${this.localAdminUrl}/v1/regions`, { headers: { authorization: `Bearer ${this.adminToken}` } })).regions;
  }

  // --- a region ---

  partsOf(r: Region): RegionParts {
    let p = this.parts.get(r);
    if (p === undefined) this.parts.set(r, (p = { echos: [] }));
    return p;
  }

  // Zone controller, echo instances (and only-<r> when asked for), ingress, edge.
  async startRegion(r: Region, o: { only?: boolean } = {}): Promise<void> {
    if (o.only && !this.only.includes(r)) this.only.push(r);
    const tokenFile = path.join(this.dir(r), 'join-token');
    fs.writeFileSync(tokenFile, `${await this.token(r)}\n`, { mode: 0o600 });
    await this.startZone(r, this.zoneArgs(r, tokenFile));
    await Promise.all([
      ...PORTS.echo.map((port, i) => this.startEcho(r, 'echo', port, `echo-${r}-${i + 1}`)),
      ...(this.only.includes(r) ? [this.startEcho(r, onlyService(r), PORTS.only, `${onlyService(r)}-1`)] : []),
    ]);
    await Promise.all([this.startIngress(r), this.startEdge(r)]);
  }

  proxyTokenFile(r: Region): string {
    return path.join(this.dir(r), 'proxy-token');
  }

  // Seals the zone's CA and WireGuard keys in its state dir (beside it, not
  // inside it); made once, so a restarted zone opens them.
  stateKeyFile(r: Region): string {
    const file = path.join(this.dir(r), 'state.key');
    if (!fs.existsSync(file)) fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    return file;
  }

  zoneArgs(r: Region, tokenFile: string): string[] {
    const reg = this.lab.addresses.regions[r];
    return [
      'zone-controller', '--region', r, '--global', this.federation, '--join-token-file', tokenFile, '--proxy-token-file', this.proxyTokenFile(r),
      '--state-key-file', this.stateKeyFile(r),
      // The zone DNS where the region's workloads ask for <service>.mesh.
      '--http', `127.0.0.1:${PORTS.zoneHttp}`, '--grpc', `127.0.0.1:${PORTS.zoneGrpc}`, '--dns', `${reg.instanceNetwork.host}:${PORTS.dns}`,
      '--ingress', `${reg.tunnel}:${PORTS.ingress}`, '--state-dir', this.dir(r, 'zone'),
      '--tunnel-interface', reg.wgIfname, '--tunnel-address', reg.tunnel, '--tunnel-endpoint', `${reg.underlay}:${this.lab.addresses.wgPort}`,
    ];
  }

  // Started, federated and holding the resources.
  async startZone(r: Region, args: string[]): Promise<LabProcess> {
    // The region's proxy token (zoneArgs names it): discovery runs mTLS between the zone and its proxies.
    if (!fs.existsSync(this.proxyTokenFile(r))) {
      const { stdout: proxyToken } = await this.meridian('global', ['token', 'create', '--proxy', '--region', r]);
      fs.writeFileSync(this.proxyTokenFile(r), proxyToken, { mode: 0o600 });
    }
    const zone = this.spawnMeridian(r, `${r}-zone`, args);
    this.partsOf(r).zone = zone;
    await this.waitFor(`${r} zone controller federated`, async () => {
      const s = await this.http(r).json(`http://127.0.0.1:${PORTS.zoneHttp}/v1/state`);
      if (s.federated !== true && s.lastError) throw new Error(s.lastError);
      return s.federated === true && s.version > 0;
    }, 30_000, 100, [zone]);
    return zone;
  }

  async startEcho(r: Region, service: string, port: number, instance: string): Promise<LabProcess> {
    const echo = this.spawnMeridian(r, `${r}-${instance}`, ['echo-server', '--listen', `127.0.0.1:${port}`, '--service', service, '--region', r, '--instance', instance]);
    const parts = this.partsOf(r);
    parts.echos = [...parts.echos.filter((e) => e.name !== echo.name), echo];
    await this.waitFor(`${instance} listening`, async () => (await this.http(r).request(`http://127.0.0.1:${port}/healthz`)).status === 200, 15_000, 100, [echo]);
    await this.meridian(r, ['register', '--zone', `http://127.0.0.1:${PORTS.zoneHttp}`, '--service', service, '--address', '127.0.0.1', '--port', String(port), '--id', instance], {
      env: { MERIDIAN_INSTANCE_TOKEN: await this.instanceToken(r) },
    });
    return echo;
  }

  // A redis-server on the region host's loopback, holding the key `region`
  // (its region's name, so a client sees who served it), registered as an
  // instance of the service `redis`.
  async startRedis(r: Region): Promise<LabProcess> {
    const instance = `redis-${r}-1`;
    const redis = this.lab.spawn(r, 'redis-server', [
      '--bind', '127.0.0.1', '--port', String(PORTS.redis), '--save', '', '--appendonly', 'no', '--dir', this.dir(r), '--protected-mode', 'no',
    ], { name: `${r}-${instance}` });
    const parts = this.partsOf(r);
    parts.echos = [...parts.echos.filter((e) => e.name !== redis.name), redis];
    const cli = (...args: string[]) => this.lab.exec(r, 'redis-cli', ['-h', '127.0.0.1', '-p', String(PORTS.redis), ...args], { timeoutMs: 5000 });
    await this.waitFor(`${instance} answering`, async () => (await cli('PING')).stdout.trim() === 'PONG', 15_000, 100, [redis]);
    await cli('SET', 'region', r);
    await this.meridian(r, ['register', '--zone', `http://127.0.0.1:${PORTS.zoneHttp}`, '--service', 'redis', '--address', '127.0.0.1', '--port', String(PORTS.redis), '--id', instance], {
      env: { MERIDIAN_INSTANCE_TOKEN: await this.instanceToken(r) },
    });
    return redis;
  }

  // SIGKILL to a region's redis instance; the function it returns starts and registers it again.
  async killRedis(r: Region): Promise<() => Promise<void>> {
    const redis = this.partsOf(r).echos.filter((e) => e.name.startsWith(`${r}-redis-`));
    await Promise.all(redis.map((e) => e.stop('SIGKILL')));
    return async () => {
      await this.startRedis(r);
    };
  }

  // Kills a region's echo instances (SIGKILL); the function it returns
  // starts and registers them again.
  async killEchos(r: Region): Promise<() => Promise<void>> {
    const echos = this.partsOf(r).echos.filter((e) => e.name.startsWith(`${r}-echo-`));
    await Promise.all(echos.map((e) => e.stop('SIGKILL')));
    return async () => {
      await Promise.all(PORTS.echo.map((port, i) => this.startEcho(r, 'echo', port, `echo-${r}-${i + 1}`)));
    };
  }

  // Drops (or lets through again) the WireGuard packets between two regions,
  // with iptables in `from`: the tunnel breaks, the underlay stays up.
  async blockTunnel(from: Region, to: Region, blocked: boolean): Promise<void> {
    const a = this.lab.addresses;
    const peer = a.regions[to].underlay;
    const rules = [
      ['OUTPUT', '-p', 'udp', '-d', peer, '--dport', String(a.wgPort), '-j', 'DROP'],
      ['INPUT', '-p', 'udp', '-s', peer, '--sport', String(a.wgPort), '-j', 'DROP'],
    ];
    for (const rule of rules) await this.lab.exec(from, 'iptables', [blocked ? '-A' : '-D', ...rule]);
  }

  async startIngress(r: Region): Promise<LabProcess> {
    const reg = this.lab.addresses.regions[r];
    const ingress = this.spawnMeridian(r, `${r}-ingress`, [
      'edge', '--mode', 'ingress', '--region', r, '--zone', `127.0.0.1:${PORTS.zoneGrpc}`, '--zone-token-file', this.proxyTokenFile(r), '--name', `ingress-${r}`,
      // mTLS only: the ingress serves its mesh leaf and checks every caller's.
      '--https', `${reg.tunnel}:${PORTS.ingress}`, '--admin', `127.0.0.1:${PORTS.ingressAdmin}`, '--access-log-sample', '0',
    ]);
    this.partsOf(r).ingress = ingress;
    await this.waitFor(`ingress-${r}`, async () => (await this.http(r).request(`http://127.0.0.1:${PORTS.ingressAdmin}/healthz`)).status === 200, 20_000, 100, [ingress]);
    return ingress;
  }

  edgeArgs(r: Region): string[] {
    const a = this.lab.addresses;
    const reg = a.regions[r];
    const bird = this.lab.birdPaths(r);
    return [
      'edge', '--mode', 'edge', '--region', r, '--zone', `127.0.0.1:${PORTS.zoneGrpc}`, '--zone-token-file', this.proxyTokenFile(r), '--name', `edge-${r}`,
      '--http', `${a.anycast}:${PORTS.edgeHttp}`, '--admin', `127.0.0.1:${PORTS.edgeAdmin}`, '--drain-period', '5s', '--access-log-sample', '0',
      // The mesh listener for the region's workloads (the zone DNS gives out its address).
      '--mesh-http', `${reg.instanceNetwork.host}:${PORTS.meshHttp}`,
      '--bird-socket', bird.socket, '--bird-config', bird.config,
      '--bgp-router-id', reg.underlay, '--bgp-originate', reg.underlayPrefix, '--bgp-hold-time', '3', '--withdraw-wait', '1s',
    ];
  }

  // Started; announcing once it is healthy (waitAnnouncing).
  async startEdge(r: Region): Promise<LabProcess> {
    const edge = this.spawnMeridian(r, `${r}-edge`, this.edgeArgs(r));
    this.partsOf(r).edge = edge;
    await this.waitFor(`edge-${r}`, async () => (await this.http(r).request(`http://127.0.0.1:${PORTS.edgeAdmin}/healthz`)).status === 200, 20_000, 100, [edge]);
    return edge;
  }

  async edgeHealth(r: Region): Promise<{ status: number; announcing: boolean; text: string }> {
    const res = await this.http(r).request(`http://127.0.0.1:${PORTS.edgeAdmin}/healthz`);
    return { status: res.status, announcing: /^announcing: true$/m.test(res.body), text: res.body };
  }

  async edgeView(r: Region): Promise<any> {
    return this.http(r).json(`http://127.0.0.1:${PORTS.edgeAdmin}/v1/view`);
  }

  async waitAnnouncing(r: Region, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(`edge-${r} announcing`, async () => (await this.edgeHealth(r)).announcing, timeoutMs, 100, [this.partsOf(r).edge!]);
  }

  // Every region online with its echo instances healthy, every zone's tunnel
  // up to every other, every edge announcing, and each region's edge seeing
  // the others as reachable.
  async waitSteady(regions: Region[], timeoutMs = 60_000): Promise<void> {
    await this.waitFor('every region online, echo 2/2, tunnels up', async () => {
      const view = await this.regionsView();
      return regions.every((r) => {
        const z = view.find((x) => x.region === r);
        const echo = z?.services.find((s) => s.service === 'echo');
        const peersUp = regions.filter((o) => o !== r).every((o) => z?.peers?.some((p) => p.region === o && p.up));
        return z?.online && echo?.healthy === 2 && peersUp;
      });
    }, timeoutMs, 250);
    for (const r of regions) await this.waitAnnouncing(r, timeoutMs);
    for (const r of regions) {
      await this.waitFor(`edge-${r} sees every other region reachable`, async () => {
        const v = await this.edgeView(r);
        const reachable = new Set((v.remoteRegions as { name: string; reachable: boolean; relayVia?: string }[]).filter((x) => x.reachable && !x.relayVia).map((x) => x.name));
        return regions.every((o) => o === r || reachable.has(o));
      }, timeoutMs, 250);
    }
  }

  // Pids of every Meridian process running now, by name.
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (p: LabProcess | undefined) => {
      if (p?.running && p.pid !== undefined) out[p.name] = p.pid;
    };
    add(this.etcd);
    add(this.controller);
    for (const parts of this.parts.values()) {
      add(parts.zone);
      add(parts.ingress);
      add(parts.edge);
      parts.echos.forEach(add);
    }
    return out;
  }

  // Edges and ingresses first (they drain and withdraw), then instances and
  // zones, then the control plane. The lab's teardown kills what is left.
  async stop(): Promise<void> {
    const all = [...this.parts.values()];
    await Promise.all(all.flatMap((p) => [p.edge, p.ingress]).map((p) => p?.stop('SIGTERM', 7000)));
    await Promise.all(all.flatMap((p) => [...p.echos, p.zone]).map((p) => p?.stop('SIGTERM', 3000)));
    await this.controller?.stop('SIGTERM', 3000);
    await this.etcd?.stop('SIGTERM', 3000);
    await Promise.all([...this.agents.values()].map((a) => a.close()));
  }
}
