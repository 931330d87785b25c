// The multi-region lab on one machine: three continent routers in a BGP
// chain (eu — us — ap), a client behind each, a region host per continent
// (fra, iad, sin) announcing its underlay prefix and the shared anycast /32
// with BIRD, a `global` host behind eu, and WireGuard between the regions
// (brought up and peered with lib/net/wireguard). See netns-tests/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunOptions, RunResult } from '../../lib/net/exec';
import { FAST_BFD, FAST_TIMERS, renderRouterConfig, upstreamName, type BgpNeighbor } from '../../lib/net/bird-config';
import { AnycastAnnouncer, BirdControl } from '../../lib/net/bird-control';
import { bringUp, ensurePrivateKeyFile, reconcilePeers, type WireGuardInterface } from '../../lib/net/wireguard';
import { CONTINENTS, REGIONS, labAddresses, nsName, workloadNode, type Continent, type LabAddresses, type LabNode, type Link, type Region } from './address-plan';
import type { LabProcess } from './lab-process';
import { Sandbox, type SpawnOptions } from './sandbox';

export interface LabOptions {
  prefix?: string;
  // BFD on the region—router sessions (sub-second failure detection).
  bfd?: boolean;
  wireguard?: boolean;
  keepDir?: boolean;
  // Bound on BGP convergence at start.
  convergeTimeoutMs?: number;
  // Region hosts to build (default fra, iad, sin; add syd for a region that
  // joins later: its host, link and BIRD exist, nothing of Meridian runs there).
  regions?: readonly Region[];
  // Whether the region hosts' BIRD announces the anycast /32 from the start
  // (default true). False when edges drive BIRD (meridian-stack.ts).
  announceAnycast?: boolean;
}

export interface LabTimings {
  setupMs: number;
  // From starting BIRD to every router having every route.
  bgpConvergeMs: number;
  wireguardMs: number;
}

export interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
}

type BirdNode = Continent | Region;

const hostRoute = (dst: string): string => (dst.includes('/') ? dst : `${dst}/32`);

export class Lab {
  readonly addresses: LabAddresses;
  readonly regions: readonly Region[];
  readonly timings: LabTimings = { setupMs: 0, bgpConvergeMs: 0, wireguardMs: 0 };
  private readonly birds = new Map<BirdNode, { control: BirdControl; process: LabProcess }>();
  private readonly announcers = new Map<Region, AnycastAnnouncer>();
  private readonly wg = new Map<Region, WireGuardInterface>();
  private spawned = 0;

  private constructor(
    private readonly sandbox: Sandbox,
    private readonly opts: LabOptions,
  ) {
    this.addresses = labAddresses(sandbox.prefix);
    this.regions = opts.regions ?? REGIONS;
  }

  static async create(opts: LabOptions = {}): Promise<Lab> {
    const lab = new Lab(new Sandbox({ prefix: opts.prefix, keepDir: opts.keepDir }), opts);
    try {
      await lab.build();
      return lab;
    } catch (err) {
      await lab.teardown();
      throw err;
    }
  }

  get prefix(): string {
    return this.sandbox.prefix;
  }

  get dir(): string {
    return this.sandbox.dir;
  }

  ns(node: LabNode): string {
    return nsName(this.prefix, node);
  }

  exec(node: LabNode, cmd: string, args: string[], opts: Omit<RunOptions, 'netns'> = {}): Promise<RunResult> {
    return this.sandbox.exec(this.ns(node), cmd, args, opts);
  }

  // Long-running: tracked, and killed on teardown.
  spawn(node: LabNode, cmd: string, args: string[], opts: SpawnOptions = {}): LabProcess {
    return this.sandbox.spawn(this.ns(node), cmd, args, { ...opts, name: opts.name ?? `${node}-${path.basename(cmd)}-${++this.spawned}` });
  }

  // The files of a node's BIRD: its config (-c) and control socket (-s).
  birdPaths(node: BirdNode): { config: string; socket: string } {
    const { config, socket } = this.birdFiles(node);
    return { config, socket };
  }

  bird(node: BirdNode): BirdControl {
    const b = this.birds.get(node);
    if (!b) throw new Error(`no BIRD on ${node}`);
    return b.control;
  }

  birdProcess(node: BirdNode): LabProcess {
    const b = this.birds.get(node);
    if (!b) throw new Error(`no BIRD on ${node}`);
    return b.process;
  }

  announcer(region: Region): AnycastAnnouncer {
    return this.announcers.get(region)!;
  }

  wireguard(region: Region): WireGuardInterface {
    const w = this.wg.get(region);
    if (!w) throw new Error(`no WireGuard in ${region} (lab made with wireguard: false?)`);
    return w;
  }

  async kernelRoutes(node: LabNode, proto?: string): Promise<KernelRoute[]> {
    const { stdout } = await this.exec(node, 'ip', ['-j', 'route', 'show', ...(proto ? ['proto', proto] : [])]);
    return (JSON.parse(stdout || '[]') as KernelRoute[]).map((r) => ({ ...r, dst: r.dst === 'default' ? '0.0.0.0/0' : hostRoute(r.dst) }));
  }

  async teardown(): Promise<void> {
    await this.sandbox.teardown();
  }

  leftovers(): string[] {
    return this.sandbox.leftovers();
  }

  // --- building ---

  private async build(): Promise<void> {
    const started = Date.now();
    const a = this.addresses;
    const nodes: LabNode[] = [...CONTINENTS, ...this.regions, ...CONTINENTS.map((c) => `${c}-client` as const), ...this.regions.map(workloadNode), 'global'];
    for (const node of nodes) await this.sandbox.addNamespace(this.ns(node));
    for (const c of CONTINENTS) await this.exec(c, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    const links: Link[] = [
      ...a.backbone,
      ...this.regions.map((r) => a.regions[r].uplink),
      ...CONTINENTS.map((c) => a.clients[c].uplink),
      a.global.uplink,
      ...this.regions.map((r) => a.regions[r].instanceNetwork.link),
    ];
    for (const l of links) {
      await this.sandbox.addVeth(
        { netns: this.ns(l.a.node), ifname: l.a.ifname, cidr: `${l.a.address}/${l.prefixLength}` },
        { netns: this.ns(l.b.node), ifname: l.b.ifname, cidr: `${l.b.address}/${l.prefixLength}` },
      );
    }
    for (const r of this.regions) {
      const reg = a.regions[r];
      await this.exec(r, 'ip', ['address', 'add', `${reg.underlay}/32`, 'dev', 'lo']);
      await this.exec(r, 'ip', ['address', 'add', `${a.anycast}/32`, 'dev', 'lo']);
      // An edge host routes by default to its upstream, from its own address
      // (the link /30s are not announced).
      await this.exec(r, 'ip', ['route', 'add', 'default', 'via', reg.uplink.a.address, 'src', reg.underlay]);
    }
    for (const h of [...CONTINENTS.map((c) => a.clients[c]), a.global]) {
      await this.exec(h.uplink.b.node, 'ip', ['route', 'add', 'default', 'via', h.gateway]);
    }
    // A workload reaches only its region host (the network is not announced).
    for (const r of this.regions) await this.exec(workloadNode(r), 'ip', ['route', 'add', 'default', 'via', a.regions[r].instanceNetwork.host]);
    this.timings.setupMs = Date.now() - started;

    const birdStarted = Date.now();
    await this.startBird();
    await this.waitConverged(this.opts.convergeTimeoutMs ?? 30_000);
    this.timings.bgpConvergeMs = Date.now() - birdStarted;

    if (this.opts.wireguard !== false) {
      const wgStarted = Date.now();
      await this.startWireGuard();
      this.timings.wireguardMs = Date.now() - wgStarted;
    }
  }

  private birdFiles(node: BirdNode): { dir: string; config: string; socket: string } {
    const dir = path.join(this.dir, node);
    fs.mkdirSync(dir, { recursive: true });
    return { dir, config: path.join(dir, 'bird.conf'), socket: path.join(dir, 'bird.ctl') };
  }

  private routerNeighbors(c: Continent): BgpNeighbor[] {
    const a = this.addresses;
    const neighbors: BgpNeighbor[] = [];
    for (const l of a.backbone) {
      const [me, other] = l.a.node === c ? [l.a, l.b] : l.b.node === c ? [l.b, l.a] : [undefined, undefined];
      if (me && other) neighbors.push({ name: other.node, address: other.address, as: a.routers[other.node as Continent].as, localAddress: me.address });
    }
    for (const r of this.regions) {
      const reg = a.regions[r];
      if (reg.continent !== c) continue;
      neighbors.push({ name: r, address: reg.uplink.b.address, as: reg.as, localAddress: reg.uplink.a.address, bfd: this.opts.bfd !== false });
    }
    return neighbors;
  }

  private async startBird(): Promise<void> {
    const a = this.addresses;
    const common = { timers: FAST_TIMERS, bfd: FAST_BFD, log: 'stderr' as const };
    for (const c of CONTINENTS) {
      const files = this.birdFiles(c);
      const control = new BirdControl({ socketPath: files.socket, configPath: files.config });
      const connectedInterfaces = [a.clients[c].uplink.a.ifname, ...(a.global.continent === c ? [a.global.uplink.a.ifname] : [])];
      await control.writeConfig(renderRouterConfig({ ...common, routerId: a.routers[c].routerId, localAs: a.routers[c].as, neighbors: this.routerNeighbors(c), connectedInterfaces }));
      this.birds.set(c, { control, process: this.spawnBird(c, files) });
    }
    for (const r of this.regions) {
      const reg = a.regions[r];
      const files = this.birdFiles(r);
      const control = new BirdControl({ socketPath: files.socket, configPath: files.config });
      const announcer = new AnycastAnnouncer(
        control,
        {
          ...common,
          routerId: reg.underlay,
          localAs: reg.as,
          anycast: [`${a.anycast}/32`],
          originate: [reg.underlayPrefix],
          // When an edge takes BIRD over, it renders the session as it is
          // here (name, no local address), so that BIRD keeps it running.
          neighbors: [
            this.opts.announceAnycast === false
              ? { name: upstreamName(reg.uplink.a.address), address: reg.uplink.a.address, as: a.routers[reg.continent].as, bfd: this.opts.bfd !== false }
              : { name: reg.continent, address: reg.uplink.a.address, as: a.routers[reg.continent].as, localAddress: reg.uplink.b.address, bfd: this.opts.bfd !== false },
          ],
        },
        this.opts.announceAnycast !== false,
      );
      await announcer.writeConfig();
      this.announcers.set(r, announcer);
      this.birds.set(r, { control, process: this.spawnBird(r, files) });
    }
  }

  private spawnBird(node: BirdNode, files: { config: string; socket: string; dir: string }): LabProcess {
    return this.spawn(node, 'bird', ['-f', '-c', files.config, '-s', files.socket, '-P', path.join(files.dir, 'bird.pid')], { name: `${node}-bird` });
  }

  // Every router knows every region's underlay and the anycast /32 (and the
  // LANs of the others), through BGP, installed in its kernel.
  expectedRoutes(c: Continent): string[] {
    const a = this.addresses;
    const lans = [...CONTINENTS.map((x) => a.clients[x]), a.global].filter((h) => h.uplink.a.node !== c).map((h) => h.lan);
    const anycast = this.opts.announceAnycast !== false ? [`${a.anycast}/32`] : [];
    return [...this.regions.map((r) => a.regions[r].underlayPrefix), ...anycast, ...lans];
  }

  async missingRoutes(): Promise<string[]> {
    const missing: string[] = [];
    for (const c of CONTINENTS) {
      const have = new Set((await this.kernelRoutes(c, 'bird')).map((r) => r.dst));
      for (const dst of this.expectedRoutes(c)) if (!have.has(dst)) missing.push(`${c}: ${dst}`);
    }
    return missing;
  }

  private async waitConverged(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const node of this.birds.keys()) await this.bird(node).waitEstablished(undefined, Math.max(1000, deadline - Date.now()));
    let missing: string[] = [];
    while (Date.now() < deadline) {
      missing = await this.missingRoutes();
      if (!missing.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`BGP did not converge in ${timeoutMs} ms; missing: ${missing.join(', ')}`);
  }

  private async startWireGuard(): Promise<void> {
    const a = this.addresses;
    for (const r of this.regions) {
      const reg = a.regions[r];
      const keyFile = path.join(this.dir, r, 'wg.key');
      await ensurePrivateKeyFile(keyFile);
      this.sandbox.trackWireGuard(reg.wgIfname, reg.ns);
      this.wg.set(r, await bringUp({ ifname: reg.wgIfname, netns: reg.ns, privateKeyFile: keyFile, listenPort: a.wgPort, address: `${reg.tunnel}/32` }));
    }
    for (const r of this.regions) await this.reconcileTunnels(r);
  }

  // The peers region `r` should have: every other region, or those given.
  desiredPeers(r: Region, others: Region[] = this.regions.filter((x) => x !== r)) {
    const a = this.addresses;
    return others.map((o) => ({
      publicKey: this.wireguard(o).publicKey,
      endpoint: `${a.regions[o].underlay}:${a.wgPort}`,
      allowedIps: [`${a.regions[o].tunnel}/32`],
      persistentKeepalive: 5,
    }));
  }

  reconcileTunnels(r: Region, others?: Region[]) {
    return reconcilePeers(this.addresses.regions[r].wgIfname, this.desiredPeers(r, others), { netns: this.addresses.regions[r].ns });
  }
}
