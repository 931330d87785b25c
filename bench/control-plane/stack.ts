// The processes under test: etcd, one global controller, zone controllers
// and an edge, each a real `meridian` process on loopback with its own ports,
// state directory and log file. Everything started here is stopped by stop().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EtcdProcess } from '../../lib/process/etcd-process';
import { freePort } from '../../lib/process/free-port';
import { PartProcess, waitFor } from '../../lib/process/part-process';
import { MERIDIAN_BIN } from '../../test-support/repo-root';

export const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;

export interface StackOptions {
  dir: string;
  heartbeat: string;
  logLevel: string;
  // Extra node flags (e.g. --cpu-prof) for these process names.
  nodeFlags: (name: string) => string[];
}

// Free ports, never the same one twice: lib/process/free-port reserves each.
export const uniquePort = freePort;

export class MeridianProcess extends PartProcess {
  constructor(name: string, args: string[], opts: StackOptions, logLevel = opts.logLevel) {
    super({
      name,
      command: process.execPath,
      args: [...opts.nodeFlags(name), MERIDIAN_BIN(), ...args],
      logDir: path.join(opts.dir, 'logs'),
      env: { MERIDIAN_LOG_LEVEL: logLevel },
    });
  }
}

export class ZoneControllerProcess extends MeridianProcess {
  constructor(readonly region: string, readonly http: number, readonly grpc: number, globalGrpc: number, tokenFile: string, readonly stateDir: string, opts: StackOptions) {
    super(`zone-${region}`, [
      'zone-controller', '--region', region, '--global', `127.0.0.1:${globalGrpc}`, '--join-token-file', tokenFile,
      '--http', `127.0.0.1:${http}`, '--grpc', `127.0.0.1:${grpc}`, '--dns', `127.0.0.1:0`,
      '--ingress', `127.0.0.1:7600`, '--state-dir', stateDir, '--state-key-file', `${stateDir}.key`,
      // The bench registers as fast as the zone takes it, up to 100,000 services a zone.
      '--registry-rate', '1000000', '--registry-burst', '1000000', '--registry-max-instances', '1000000',
    ], opts);
  }

  get url(): string {
    return `http://127.0.0.1:${this.http}`;
  }

  get discoveryAddress(): string {
    return `127.0.0.1:${this.grpc}`;
  }

  async healthz(): Promise<{ ok: boolean; federated: boolean; version: number }> {
    const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as { ok: boolean; federated: boolean; version: number };
  }
}

export class Stack {
  readonly etcd: EtcdProcess;
  gc!: MeridianProcess;
  gcGrpc = 0;
  gcHttp = 0;
  readonly zones = new Map<string, ZoneControllerProcess>();
  edge: MeridianProcess | undefined;
  edgeHttp = 0;
  edgeAdmin = 0;

  constructor(readonly opts: StackOptions) {
    fs.mkdirSync(path.join(opts.dir, 'logs'), { recursive: true });
    this.etcd = new EtcdProcess({ dataDir: path.join(opts.dir, 'etcd') });
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.gcHttp}`;
  }

  async startControlPlane(): Promise<void> {
    const { dir } = this.opts;
    fs.mkdirSync(this.etcd.dataDir, { recursive: true });
    this.etcd.clientPort = await uniquePort();
    this.etcd.peerPort = await uniquePort();
    fs.writeFileSync(path.join(dir, 'tokens'), `admin ${ADMIN_TOKEN}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'data.key'), randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    await this.etcd.start();
    this.gcGrpc = await uniquePort();
    this.gcHttp = await uniquePort();
    this.gc = new MeridianProcess('global-controller', [
      'global-controller', '--etcd', this.etcd.endpoint, '--grpc', `127.0.0.1:${this.gcGrpc}`, '--http', `127.0.0.1:${this.gcHttp}`,
      '--tokens-file', path.join(dir, 'tokens'), '--replica', 'gc-1', '--heartbeat-interval', this.opts.heartbeat,
      '--data-key-file', path.join(dir, 'data.key'),
    ], this.opts);
    this.gc.start();
    await waitFor('the global controller to load its store', async () => {
      const res = await fetch(`${this.adminUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      return ((await res.json()) as { storeWarm: boolean }).storeWarm;
    }, 30_000, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\n${this.gc.tail()}`);
    });
  }

  async startZone(region: string, token: string): Promise<ZoneControllerProcess> {
    const tokenFile = path.join(this.opts.dir, `${region}.token`);
    fs.writeFileSync(tokenFile, token, { mode: 0o600 });
    const stateDir = path.join(this.opts.dir, `state-${region}`);
    fs.rmSync(stateDir, { recursive: true, force: true });
    // The state key beside the state dir (not in it): seals the zone CA key kept there.
    fs.writeFileSync(`${stateDir}.key`, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const zone = new ZoneControllerProcess(region, await uniquePort(), await uniquePort(), this.gcGrpc, tokenFile, stateDir, this.opts);
    this.zones.set(region, zone);
    zone.start();
    return zone;
  }

  async removeZone(region: string): Promise<void> {
    await this.zones.get(region)?.stop('SIGTERM', 10_000);
    this.zones.delete(region);
  }

  async startEdge(region: string): Promise<MeridianProcess> {
    const zone = this.zones.get(region)!;
    this.edgeHttp = await uniquePort();
    this.edgeAdmin = await uniquePort();
    // Debug logs: each applied view is a line with its version and time.
    this.edge = new MeridianProcess(`edge-${region}`, [
      'edge', '--mode', 'edge', '--region', region, '--zone', zone.discoveryAddress, '--name', `edge-${region}`,
      '--http', `127.0.0.1:${this.edgeHttp}`, '--admin', `127.0.0.1:${this.edgeAdmin}`, '--drain-period', '100ms',
    ], this.opts, 'debug');
    this.edge.start();
    return this.edge;
  }

  async api(method: string, pathname: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.adminUrl}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text
    }
    return { status: res.status, body: parsed };
  }

  async token(region: string): Promise<string> {
    const res = await this.api('POST', '/v1/tokens', { region, ttl: '24h' });
    if (res.status !== 200) throw new Error(`token for ${region}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  }

  // An instance token for every service of the region: what a deployment system holds.
  async instanceToken(region: string): Promise<string> {
    const res = await this.api('POST', '/v1/instance-tokens', { region, service: '*', ttl: '24h' });
    if (res.status !== 201) throw new Error(`instance token for ${region}: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { token: string }).token;
  }

  pids(): Record<string, number | undefined> {
    const out: Record<string, number | undefined> = { 'global-controller': this.gc?.pid, etcd: etcdPid(this.etcd) };
    for (const [r, z] of this.zones) if (z.running) out[`zone-${r}`] = z.pid;
    if (this.edge?.running) out.edge = this.edge.pid;
    return out;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.edge?.stop('SIGTERM', 5000), ...[...this.zones.values()].map((z) => z.stop('SIGTERM', 10_000))]);
    await this.gc?.stop('SIGTERM', 10_000);
    await this.etcd.destroy();
  }
}

function etcdPid(etcd: EtcdProcess): number | undefined {
  return (etcd as unknown as { child?: { pid?: number } }).child?.pid;
}
